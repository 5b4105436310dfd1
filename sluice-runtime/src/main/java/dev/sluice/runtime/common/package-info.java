/**
 * Small pieces shared by every role of the runtime, each stateless or self-contained: {@link
 * TaskContext} (the current task and the counters that make child task and object ids
 * deterministic, DESIGN "Identifiers"), {@link Errors} (failures to and from their wire form {@code
 * ErrorInfo}, DESIGN "Execution"), {@link MessageLimit} (what fits inline in one message), {@link
 * OwnerOnlyFiles} (files and directories created owner-only) and {@link SessionRoots} (the default
 * session root, {@code java.io.tmpdir/sluice}).
 *
 * <p>Threads: any; {@link TaskContext} is thread-safe, the rest hold no mutable state.
 *
 * <p>Depends only on {@code serial} (exceptions travel through {@code ThrowableCodec}) and the
 * generated protocol classes. Everything else depends on it, so it must not depend on {@code core},
 * {@code owner}, {@code executor}, {@code node} or any other role package.
 */
package dev.sluice.runtime.common;
