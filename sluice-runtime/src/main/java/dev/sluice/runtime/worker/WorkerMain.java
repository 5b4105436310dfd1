package dev.sluice.runtime.worker;

import dev.sluice.Sluice;
import dev.sluice.SluiceConfig;
import dev.sluice.runtime.core.CoreWorker;
import dev.sluice.runtime.core.CoreWorkerOptions;
import dev.sluice.runtime.executor.WorkerConfig;
import dev.sluice.runtime.metrics.SluiceMetrics;
import dev.sluice.runtime.objectstore.OrphanedStoreFile;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.SocketDirectory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point of a worker JVM, launched by a node manager. Starts a core worker, installs it as
 * this process's Sluice runtime, registers with the node manager, then serves tasks until the node
 * manager goes away.
 *
 * <p>Lifetime: the node manager holds the other end of this process's standard input. A thread
 * blocks reading it; end of file (the node manager exited, closed it, or was killed) halts the
 * worker at once. So a worker never outlives its node manager, even after {@code kill -9}; and if
 * that node manager was killed, the worker removes the node's store file and short socket directory
 * on its way out (see {@link OrphanedStoreFile}, {@link SocketDirectory#orphanRemover}).
 */
public final class WorkerMain {
  /**
   * A worker's children go only to workers with nothing queued: a task joins its children, and a
   * child pipelined behind another worker's (maybe blocked) task is one its parent could have run
   * itself (DESIGN "Nested tasks"). Drivers pipeline for throughput.
   */
  private static final int WORKER_TASKS_IN_FLIGHT = 1;

  private static final Logger log = LoggerFactory.getLogger(WorkerMain.class);

  private WorkerMain() {}

  /**
   * Runs a worker; see {@link WorkerConfig#toArgs()} for the arguments and {@link
   * WorkerConfig#toEnvironment()} for the environment it expects.
   */
  public static void main(String[] args) throws Exception {
    WorkerConfig config = WorkerConfig.parse(args, System.getenv());
    Thread parentWatch =
        Thread.ofPlatform()
            .daemon()
            .name("sluice-parent-watch")
            .start(() -> exitWhenParentGoes(config.objectStoreFile(), config.sessionDir()));
    // Recorded here, pushed to the node manager, whose daemon exports the node's sum (the times of
    // the RPCs this worker serves too).
    SluiceMetrics metrics = SluiceMetrics.pushing(config.observability());
    RpcFactory rpc = new RpcFactory(config.maxMessageBytes(), config.security());
    if (metrics.enabled()) {
      rpc =
          rpc.timingCalls(
              RpcFactory.CallRecorder.of(metrics::declareRpcMethods, metrics::rpcServed));
    }
    // The channel to the node manager is made (transport classes initialized) and connected on a
    // thread of its own while this one starts the core worker (whose serializer builds on a third).
    CompletableFuture<RegistrationClient> nodeManager =
        RegistrationClient.connect(rpc, config.nodeManagerTarget());
    CoreWorker worker =
        new CoreWorker(
            new CoreWorkerOptions(
                true,
                null,
                config.workerId(),
                config.nodeId(),
                config.bindHost(),
                config.nodeManagerTarget(),
                config.serializationAllowList(),
                config.inlineThresholdBytes(),
                config.maxMessageBytes(),
                WORKER_TASKS_IN_FLIGHT,
                Duration.ofMillis(50),
                config.objectStoreFile(),
                config.objectStoreCapacity(),
                config.controlTarget(),
                config.unschedulableTimeout(),
                SluiceConfig.DEFAULT_CANCEL_GRACE_PERIOD,
                config.sessionDir()),
            rpc,
            null,
            metrics);
    Sluice.installRuntime(worker);
    RegistrationClient nm = null;
    try {
      nm = nodeManager.join();
      nm.register(
          config.workerId(), worker.port(), worker.localSocket(), ProcessHandle.current().pid());
    } catch (RuntimeException e) {
      log.error(
          "worker {} could not register with node manager {}: {}",
          config.workerId(),
          config.nodeManagerTarget(),
          e.toString());
      Runtime.getRuntime().halt(2);
    } finally {
      if (nm != null) {
        nm.close();
      }
    }
    worker.startWatchingNodes();
    worker.reportMetricsToNode(metrics);
    ProcessHandle.Info self = ProcessHandle.current().info();
    long sinceStart =
        System.currentTimeMillis() - self.startInstant().map(i -> i.toEpochMilli()).orElse(0L);
    log.info(
        "worker {} (pid {}) serving on port {}, {} ms after its JVM started ({} ms of CPU)",
        config.workerId(),
        ProcessHandle.current().pid(),
        worker.port(),
        sinceStart,
        self.totalCpuDuration().map(Duration::toMillis).orElse(-1L));
    parentWatch.join();
  }

  private static void exitWhenParentGoes(Path storeFile, Path sessionDir) {
    // The node manager only closes this pipe when it stops or dies: its store and its short socket
    // directory go either way.
    Runnable removeStore = OrphanedStoreFile.remover(storeFile);
    Runnable removeSockets =
        sessionDir == null ? () -> {} : SocketDirectory.orphanRemover(sessionDir);
    InputStream in = System.in;
    byte[] buf = new byte[64];
    try {
      while (in.read(buf) >= 0) {
        // the node manager never writes; any bytes are ignored
      }
    } catch (IOException e) {
      // a broken pipe means the same as end of file
    }
    removeStore.run();
    removeSockets.run();
    log.info("node manager is gone (stdin closed): worker exiting");
    Runtime.getRuntime().halt(0);
  }
}
