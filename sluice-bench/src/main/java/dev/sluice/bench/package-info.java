/**
 * Benchmarks with in-run baselines: {@link BenchMain} runs the measurements ({@link
 * TaskBenchmarks}, {@link StreamBenchmarks}, {@link LargeObjectBenchmarks}, {@link
 * ClusterBenchmarks}, {@link WorkerStartBenchmarks}) next to their transport peers ({@link
 * GrpcBaseline}, {@link GrpcStreamBaseline}, {@link RSocketBaseline}, {@link
 * RSocketStreamBaseline}) in one JVM, rounds interleaved by {@link InterleavedRunner}, and prints
 * Markdown tables ({@link ResultTable}) with {@link MachineInfo}. {@link PeerGroups} ({@code
 * --group}) instead runs every peer and Sluice driver in a child JVM of its own ({@link PeerMain},
 * started and driven by {@link PeerProcess} over {@link PeerProtocol}), warms each up until steady
 * and times its rounds ({@link SteadyRounds}, {@link RoundPolicy}), runs compared measurements in
 * mirrored order ({@link MirroredRunner}) and judges each target round by round ({@link
 * TargetRow}). {@link NestedBenchmarks} runs on its own. The task functions are in {@link
 * BenchTasks}, so that workers load nothing else of the harness.
 *
 * <p>Threads: measurements run one at a time on the main thread; the baselines' servers use their
 * own transport threads. Sluice is initialized at most once at a time per process.
 *
 * <p>Uses the public API for what it measures, and runtime classes only where a baseline needs the
 * runtime's own transport settings ({@code RpcFactory}) or several nodes ({@code LocalCluster}).
 * See {@code sluice-bench/README.md} for what each row times.
 */
package dev.sluice.bench;
