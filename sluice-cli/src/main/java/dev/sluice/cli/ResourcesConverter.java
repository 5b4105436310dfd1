package dev.sluice.cli;

import dev.sluice.runtime.daemon.DaemonConfig;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Checks a {@code name=amount,...} resource list the way the daemon parses it, so that a bad list
 * is a usage error before anything starts.
 */
final class ResourcesConverter implements ITypeConverter<String> {
  @Override
  public String convert(String value) {
    try {
      DaemonConfig.parseResources(value);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(
          e.getMessage() + " (expected name=amount,...," + " e.g. GPU=2,memory_gb=64)");
    }
    return value;
  }
}
