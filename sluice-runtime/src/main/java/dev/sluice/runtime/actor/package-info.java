/**
 * The actor runtime (DESIGN "Actors"), in three parts: the caller side ({@code ActorTaskSubmitter}:
 * numbers a process's calls to each actor and sends them over one task stream per actor), the
 * creator side ({@code ActorManager}: places the actor and runs its constructor, again on every
 * restart) and the host side ({@link ActorCallQueue}: in the actor's worker, the actor call order
 * rule and the actor's concurrency limit).
 *
 * <p>Threads: transport threads only hand calls to the queue (offers, cancels, numbering updates);
 * every call starts on a thread of the executor the queue is given (a virtual thread per call), and
 * an async call holds a concurrency permit, not a thread, while its stage is pending. Neither user
 * code nor callbacks run under the queue's lock.
 *
 * <p>Depends on {@code dev.sluice} ids only; wire messages are translated by its users.
 */
package dev.sluice.runtime.actor;
