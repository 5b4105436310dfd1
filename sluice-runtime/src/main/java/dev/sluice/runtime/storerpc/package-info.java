/**
 * The object store's RPC edge: the protocol on one side, the {@code objectstore} package's own
 * types on the other, so that the store and its client know nothing of gRPC or protobuf. {@link
 * ObjectStoreGrpcService} serves the store calls of the node manager's service ({@code
 * CreateObject}, {@code SealObject}, {@code ReserveExtent}, {@code PinObject}, {@code
 * ReleaseObject}, {@code DeleteObjects}, {@code GetObjectStoreStats}) over a {@link
 * dev.sluice.runtime.objectstore.SharedMemoryStore}; {@link ObjectStoreRpcClient} makes those calls
 * (and {@code FetchObject}) for a {@link dev.sluice.runtime.objectstore.SharedMemoryClient}; {@link
 * StoreLocations} converts an object's location to and from its protocol form.
 *
 * <p>Threads: service handlers run on transport threads and never block on anything but the store's
 * lock; the client's blocking calls must not run on transport threads.
 *
 * <p>Depends on {@code objectstore}, {@code rpc} and {@code common}; {@code node} (which serves the
 * calls) and {@code core} (which makes them) use it.
 */
package dev.sluice.runtime.storerpc;
