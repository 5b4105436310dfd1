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
    return config.address().isPresent()
        ? ClusterDriver.connect(config)
        : EmbeddedCluster.start(config);
  }
}
