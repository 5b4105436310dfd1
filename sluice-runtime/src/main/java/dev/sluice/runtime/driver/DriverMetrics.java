package dev.sluice.runtime.driver;

import dev.sluice.RuntimeStartupException;
import dev.sluice.SluiceConfig;
import dev.sluice.runtime.metrics.MetricsServer;
import dev.sluice.runtime.metrics.SluiceMetrics;
import dev.sluice.runtime.rpc.RpcFactory;
import java.io.IOException;
import java.util.OptionalInt;

/**
 * A driver's metrics (README "Metrics"): recorded when {@link SluiceConfig#observability()} is on,
 * and served on loopback at {@link SluiceConfig#metricsPort()} when that is set, with the JVM's
 * metrics and the times of the RPCs the driver's process serves. An embedded cluster's control
 * service and node manager record into the same metrics, and its workers push theirs to it.
 *
 * <p>Threads: made and closed on the driver's starting and stopping threads.
 */
final class DriverMetrics implements AutoCloseable {
  private final SluiceMetrics metrics;
  private final MetricsServer server;

  private DriverMetrics(SluiceMetrics metrics, MetricsServer server) {
    this.metrics = metrics;
    this.server = server;
  }

  /**
   * The metrics {@code config} asks for, served at {@code host} if it sets a port.
   *
   * @throws RuntimeStartupException if the port cannot be bound
   */
  static DriverMetrics start(SluiceConfig config, String host) {
    SluiceMetrics metrics = SluiceMetrics.of(config.observability());
    if (config.metricsPort().isEmpty()) {
      return new DriverMetrics(metrics, null);
    }
    metrics.bindJvmMetrics();
    int port = config.metricsPort().getAsInt();
    try {
      return new DriverMetrics(metrics, MetricsServer.start(metrics, host, port));
    } catch (IOException e) {
      metrics.close();
      throw new RuntimeStartupException(
          "Sluice could not serve its metrics at " + host + ":" + port + ": " + e.getMessage(), e);
    }
  }

  SluiceMetrics metrics() {
    return metrics;
  }

  /** True if this driver serves its own metrics (then it does not push them to its node). */
  boolean served() {
    return server != null;
  }

  /** {@code rpc}, timing the calls its servers serve when the metrics are served. */
  RpcFactory instrument(RpcFactory rpc) {
    return served() && metrics.enabled()
        ? rpc.timingCalls(
            RpcFactory.CallRecorder.of(metrics::declareRpcMethods, metrics::rpcServed))
        : rpc;
  }

  /** The port the metrics are served on, if they are. */
  OptionalInt port() {
    return server == null ? OptionalInt.empty() : OptionalInt.of(server.port());
  }

  @Override
  public void close() {
    if (server != null) {
      server.close();
    }
    metrics.close();
  }
}
