/**
 * Code distribution (DESIGN "Clusters and object transfer", Ray's {@code runtime_env} working
 * directory): a driver's class path becomes content-addressed packages that the head stores and
 * nodes download, so no shared file system is needed.
 *
 * <ul>
 *   <li>{@link CodePackager}: class path to packages (jars as they are, class directories as
 *       deterministic jars), named by SHA-256; a driver uploads the missing ones with {@link
 *       PackageUploader}, through {@link PackageClient} (the package RPCs).
 *   <li>{@link PackageStore}: the head's packages on disk, one file per SHA-256; the control
 *       service receives uploads with {@link PackageReceiveStream} and serves downloads with {@link
 *       PackageSendStream}.
 *   <li>{@link PackageCache}: a node's verified copies; {@link LocalPackages} indexes what a
 *       process's own class path already holds.
 * </ul>
 *
 * <p>Threads: stream callbacks run on transport threads and never block; downloads ({@link
 * PackageCache#resolve}, through {@link PackageClient}) block and run on the node manager's virtual
 * threads; the uploader runs on the connecting driver's thread. Files appear only by atomic rename
 * once their hash matches their name; the stores hold no bytes on the heap.
 *
 * <p>Depends on {@code common} and {@code rpc} only; must not depend on {@code control}, {@code
 * node} or {@code driver}, which call into it.
 */
package dev.sluice.runtime.code;
