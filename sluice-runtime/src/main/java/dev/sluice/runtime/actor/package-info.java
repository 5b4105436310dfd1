/**
 * The actor runtime (DESIGN "Actors"). {@link dev.sluice.runtime.actor.Actors} is the entry the
 * core worker calls. It has three parts:
 *
 * <ul>
 *   <li>the caller side: {@link dev.sluice.runtime.actor.ActorTaskSubmitter} keeps one {@link
 *       dev.sluice.runtime.actor.ActorClient} per actor a process calls, which numbers its calls
 *       ({@link dev.sluice.runtime.actor.ActorCallBook}) and sends them over one {@link
 *       dev.sluice.runtime.actor.ActorCallStream} per instance;
 *   <li>the creator side: {@link dev.sluice.runtime.actor.ActorManager} leases a worker ({@link
 *       dev.sluice.runtime.actor.ActorLeaser}), runs the constructor there over an {@link
 *       dev.sluice.runtime.actor.ActorCreationStream}, and again on every restart (the control
 *       service's {@code HeadActorCreator} uses the same two for a detached actor whose creator is
 *       gone);
 *   <li>the host side: {@link dev.sluice.runtime.actor.ActorCallQueue}, in the actor's worker,
 *       holds the actor call order rule and the actor's concurrency limit (the executor runs the
 *       calls).
 * </ul>
 *
 * <p>{@link dev.sluice.runtime.actor.ActorDirectory} is a process's view of the control service's
 * actor table, reached through {@link dev.sluice.runtime.actor.ActorTableClient}; it drops a dead
 * actor's entry once nothing in the process follows it.
 *
 * <p>Threads: user threads submit and create (registration is a blocking control call); table
 * changes, results and lease replies arrive on transport threads, retries on the core worker's
 * timer thread. In the actor's worker, transport threads only hand calls to the queue; every call
 * starts on a thread of the executor the queue is given (a virtual thread per call), and an async
 * call holds a concurrency permit, not a thread, while its stage is pending. Neither user code nor
 * callbacks run under a lock. Only the {@code *Client} and {@code *Stream} classes touch gRPC.
 */
package dev.sluice.runtime.actor;
