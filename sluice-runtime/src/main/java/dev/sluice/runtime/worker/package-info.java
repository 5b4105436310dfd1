/**
 * The worker process (DESIGN "Execution", "Failures"): {@link WorkerMain} is the entry point of a
 * worker JVM that a node manager launches. It starts the process's core worker ({@code core}),
 * which runs pushed tasks through its executor side ({@code executor}), registers with the node
 * manager, and halts the JVM when the node manager goes away.
 *
 * <p>Threads: the main thread starts the core worker and registers, then waits; one thread connects
 * to the node manager meanwhile; one thread blocked on standard input halts the worker when its
 * node manager's end of the pipe closes.
 *
 * <p>This package sits above {@code core} and {@code executor} and depends on both, so that neither
 * depends on the other's caller: {@code core} wires an executor, and only this package creates a
 * core worker for a worker JVM. Nothing in the runtime depends on it; the node manager names its
 * main class through {@code WorkerConfig.MAIN_CLASS}.
 */
package dev.sluice.runtime.worker;
