package dev.sluice;

/**
 * Creates the runtime for {@link Sluice#init(SluiceConfig)}. Found with {@link
 * java.util.ServiceLoader}; {@code dev.sluice:sluice-runtime} provides the implementation.
 */
@Internal
public interface SluiceRuntimeFactory {
  /** Starts a driver runtime for {@code config}. */
  SluiceRuntime create(SluiceConfig config);
}
