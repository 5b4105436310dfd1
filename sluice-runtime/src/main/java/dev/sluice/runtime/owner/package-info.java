/**
 * The owner side of a core worker (DESIGN "Core worker", "Life of a task"): what a process that
 * submits tasks or puts objects keeps. {@link TaskManager} records submitted tasks, retries them
 * and turns outcomes into objects ({@link LineageReconstruction} rebuilds lost ones from {@link
 * Lineage}, DESIGN "Failures"); {@link NormalTaskSubmitter} queues tasks per scheduling key, leases
 * workers and pushes tasks to them; {@link TaskCanceller} keeps the cancellation policy (DESIGN
 * "Cancellation"); {@link ReferenceCounter} is the reference table (DESIGN "Reference counting"),
 * whose pieces share its lock: {@link RefTable} (entries and the out-of-scope rule), {@link
 * LocalRefs}, {@link Borrowers} (owner side), {@link BorrowRegistrations} (borrower side) and
 * {@link NestedRefCollector}; {@link MemoryStore} holds owned and cached values; {@link
 * ObjectRefStream} is the caller's side of a streaming generator (DESIGN "Streaming generator
 * protocol"), with {@link StreamWaiters} for its waiting consumers; {@link ObjectRefImpl} and
 * {@link ObjectRefGeneratorImpl} are the user's handles. gRPC stays at the edges: {@link
 * NodeManagerClient} makes the lease calls to node managers for {@link LeaseRequester}, and {@link
 * LeaseStream} owns a lease's task stream to its worker.
 *
 * <p>Threads: user threads submit and wait; replies, reports and node deaths arrive on transport
 * threads and must not block; the core worker's timer thread runs idle-lease sweeps and
 * grace-period timers. Each class guards its own state (per-key monitors, per-stream locks, {@code
 * ConcurrentHashMap.compute}); RPCs and future completions run after the lock is released, because
 * direct-executor callbacks may re-enter.
 *
 * <p>Depends on {@code common}, {@code rpc} and {@code serial} only; it must not depend on {@code
 * core}, {@code executor}, {@code node} or {@code driver} (the core worker wires it).
 */
package dev.sluice.runtime.owner;
