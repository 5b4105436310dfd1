/**
 * The executor side of a worker (DESIGN "Execution"): {@link TaskReceiver} runs pushed tasks in
 * arrival order ({@link TaskRun}) and answers them ({@link TaskReplies} encodes return values and
 * builds error replies), reaching its process through {@link ExecutionEnv}; {@link TaskExecution}
 * is the one execution path (context, function, arguments, invocation, reply) shared by tasks and
 * actors; {@link ActorHost} hosts the worker's actor (DESIGN "Actors": its constructor, its {@code
 * ActorCallQueue} of {@link ActorCall}s, its creator's and callers' streams, {@code ExitActor});
 * {@link TaskStream} is the worker's end of one lease's task stream (reply batching) and the only
 * class here that touches gRPC; {@link ExecutionSlots} keeps the CPU-lending rule (DESIGN "Nested
 * tasks"); {@link GeneratorExecution} and {@link GeneratorWaiter} drive streaming generators under
 * the backpressure rules (DESIGN "Streaming generator protocol"); {@link FunctionManager} resolves
 * functions; {@link WorkerConfig} is the launch contract with the node manager (the worker JVM's
 * entry point is {@code worker.WorkerMain}).
 *
 * <p>Threads: transport threads only queue work and interrupt, user code never runs on them; each
 * task runs on a task thread of {@link ExecutionSlots} ({@code sluice-task-executor-N}), one at a
 * time unless the running ones are blocked; one thread sends lending notices and one sends
 * generator reports. An actor's constructor and calls run on virtual threads of its {@link
 * ActorHost}, never in the slots.
 *
 * <p>Depends on {@code actor} (the call queue), {@code owner} (refs), {@code generator}, {@code
 * common}, {@code serial}, {@code rpc} and {@code objectstore}. It must not depend on {@code core},
 * whose core worker wires it (it reaches its process through {@link ExecutionEnv}), nor on {@code
 * worker}, {@code node}, {@code control}, {@code daemon} or {@code driver}: it talks to its node
 * manager over RPC only.
 */
package dev.sluice.runtime.executor;
