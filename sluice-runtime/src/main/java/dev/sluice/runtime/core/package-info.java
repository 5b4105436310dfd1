/**
 * The core worker (DESIGN "Core worker"): {@link CoreWorker} is the library inside every driver and
 * worker that {@code Sluice.*} calls end in. It wires the owner side ({@code owner}: memory store,
 * reference table, task manager, submitter, canceller) to the executor side (a worker's {@code
 * TaskReceiver}), encodes values (inline or through the node's store) and resolves {@code get}.
 * {@link ActorSubmission} makes the actor-facing calls (specs, task table, creation arguments) and
 * hands them to the {@code actor} package; {@link IdleBorrowCollector} runs an idle worker's
 * garbage collection, {@link LargeArrayCollector} one after every few large arrays through the
 * store; {@link CoreWorkerWiring} builds the serializer, store client and actor side. {@link
 * NodeWatcher} follows the control service's node table; {@link JoinHelper} runs a blocked task's
 * own queued children inline (DESIGN "Nested tasks").
 *
 * <p>gRPC stays in its adaptors: {@link CoreWorkerGrpcService} serves the process's {@code
 * CoreWorkerService} (and owns its server), {@link CoreWorkerClient} makes the owner-to-owner
 * calls, {@link NodeManagerClient} the calls to node managers outside leasing, and {@link
 * NodeWatchStream} holds the {@code WatchNodes} subscription.
 *
 * <p>Threads: API calls come from user and task threads and may block there; RPC handlers and
 * callbacks run on transport threads and must never block; one timer thread serves the submitter
 * and the idle collection; the current task is an inheritable thread-local, so threads a task
 * starts submit as that task.
 *
 * <p>Depends on {@code owner}, {@code actor}, {@code executor}, {@code generator}, {@code
 * objectstore}, {@code storerpc}, {@code common}, {@code rpc} and {@code serial}. It must not
 * depend on {@code worker} (the worker JVM's entry point, which creates a core worker), {@code
 * node}, {@code control}, {@code daemon} or {@code driver}: it reaches the node manager and the
 * control service over RPC only, so the same code runs in an embedded driver, a cluster driver and
 * a worker.
 */
package dev.sluice.runtime.core;
