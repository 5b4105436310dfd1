package dev.sluice.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Checks that an option value is {@code HOST:PORT} with a port from 1 to 65535. */
final class HostPortConverter implements ITypeConverter<String> {
  @Override
  public String convert(String value) {
    int colon = value.lastIndexOf(':');
    if (colon <= 0 || colon == value.length() - 1) {
      throw new TypeConversionException("'" + value + "' is not HOST:PORT");
    }
    int port;
    try {
      port = Integer.parseInt(value.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new TypeConversionException("'" + value + "' is not HOST:PORT (bad port)");
    }
    if (port < 1 || port > 65535) {
      throw new TypeConversionException("'" + value + "': port must be 1 to 65535");
    }
    return value;
  }
}
