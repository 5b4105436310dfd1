package dev.sluice.runtime.driver;

import dev.sluice.SluiceConfig;
import dev.sluice.SluiceRuntime;
import dev.sluice.SluiceRuntimeFactory;

/** The {@link SluiceRuntimeFactory} that {@code Sluice.init} finds on the class path. */
public final class DriverRuntimeFactory implements SluiceRuntimeFactory {
  /** Used by {@link java.util.ServiceLoader}. */
  public DriverRuntimeFactory() {}

  @Override
  public SluiceRuntime create(SluiceConfig config) {
    if (config.address().isPresent()) {
      throw new UnsupportedOperationException("joining a running cluster ("
          + config.address().get() + ") is not available yet; omit address() to start an "
          + "embedded cluster");
    }
    return EmbeddedCluster.start(config);
  }
}
