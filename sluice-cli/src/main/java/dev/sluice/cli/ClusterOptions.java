package dev.sluice.cli;

import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The options of a command that talks to a running cluster's head ({@code status}, {@code logs},
 * {@code list}, {@code summary}, {@code timeline}): {@code --address}, {@code --session-root} and
 * the TLS options. {@link ClusterConnection} resolves them. Filled by picocli on the command's
 * thread.
 */
final class ClusterOptions {
  @Option(
      names = "--address",
      paramLabel = "HOST:PORT",
      converter = HostPortConverter.class,
      description = "The head's control service (default: the head started on this machine).")
  private String address;

  @Mixin private SessionRootOption sessionRoot;

  @Mixin private TlsOptions tls;

  /** {@code --address}, or null to use the head started on this machine. */
  String address() {
    return address;
  }

  Path root() {
    return sessionRoot.root();
  }

  TlsOptions tls() {
    return tls;
  }
}
