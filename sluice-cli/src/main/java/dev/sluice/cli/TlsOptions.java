package dev.sluice.cli;

import dev.sluice.runtime.rpc.RpcSecurity;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The mutual TLS options: {@code --tls} with all three files, or none of them (see {@link
 * RpcSecurity.TlsFiles}).
 */
final class TlsOptions {
  @Option(
      names = "--tls",
      description =
          "Mutual TLS on every connection of the cluster (needs --tls-cert, --tls-key"
              + " and --tls-ca).")
  private boolean tls;

  @Option(
      names = "--tls-cert",
      paramLabel = "PEM",
      description = "This node's certificate chain (mutual TLS; needs --tls-key and --tls-ca).")
  private Path cert;

  @Option(
      names = "--tls-key",
      paramLabel = "PEM",
      description = "The certificate's private key, unencrypted PKCS#8.")
  private Path key;

  @Option(
      names = "--tls-ca",
      paramLabel = "PEM",
      description = "The CA certificate that signs every certificate of the cluster.")
  private Path ca;

  /** The TLS files, or null for plaintext; a partial set is a usage error. */
  RpcSecurity.TlsFiles files(CommandLine cmd) {
    boolean anyFile = cert != null || key != null || ca != null;
    if (!tls && !anyFile) {
      return null;
    }
    if (!tls) {
      throw new ParameterException(cmd, "--tls-cert, --tls-key and --tls-ca only go with --tls");
    }
    if (cert == null || key == null || ca == null) {
      throw new ParameterException(cmd, "--tls needs all of --tls-cert, --tls-key and --tls-ca");
    }
    return new RpcSecurity.TlsFiles(
        cert.toAbsolutePath(), key.toAbsolutePath(), ca.toAbsolutePath());
  }
}
