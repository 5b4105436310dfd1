/**
 * The core worker (DESIGN "Core worker"): {@link CoreWorker} is the library inside every driver and
 * worker that {@code Sluice.*} calls end in. It wires the owner side ({@code owner}: memory store,
 * reference table, task manager, submitter, canceller) to the executor side (a worker's {@code
 * TaskReceiver}), encodes values (inline or through the node's store) and resolves {@code get}.
 * {@link NodeWatcher} follows the control service's node table; {@link JoinHelper} runs a blocked
 * task's own queued children inline (DESIGN "Nested tasks").
 *
 * <p>Threads: API calls come from user and task threads and may block there; RPC handlers and
 * callbacks run on transport threads and must never block; one timer thread serves the submitter;
 * the current task is an inheritable thread-local, so threads a task starts submit as that task.
 *
 * <p>Depends on {@code owner}, {@code executor}, {@code objectstore}, {@code storerpc}, {@code
 * common}, {@code rpc} and {@code serial}. It must not depend on {@code node}, {@code control},
 * {@code daemon} or {@code driver}: it reaches the node manager and the control service over RPC
 * only, so the same code runs in an embedded driver, a cluster driver and a worker.
 */
package dev.sluice.runtime.core;
