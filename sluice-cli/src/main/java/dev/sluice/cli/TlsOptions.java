package dev.sluice.cli;

import dev.sluice.runtime.rpc.RpcSecurity;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** The mutual TLS options: all three files or none (see {@link RpcSecurity.TlsFiles}). */
final class TlsOptions {
  @Option(names = "--tls-cert", paramLabel = "PEM",
      description = "This node's certificate chain (mutual TLS; needs --tls-key and --tls-ca).")
  private Path cert;

  @Option(names = "--tls-key", paramLabel = "PEM",
      description = "The certificate's private key, unencrypted PKCS#8.")
  private Path key;

  @Option(names = "--tls-ca", paramLabel = "PEM",
      description = "The CA certificate that signs every certificate of the cluster.")
  private Path ca;

  /** The TLS files, or null for plaintext; a partial set is a usage error. */
  RpcSecurity.TlsFiles files(CommandLine cmd) {
    if (cert == null && key == null && ca == null) {
      return null;
    }
    if (cert == null || key == null || ca == null) {
      throw new ParameterException(cmd,
          "Mutual TLS needs all of --tls-cert, --tls-key and --tls-ca");
    }
    return new RpcSecurity.TlsFiles(cert.toAbsolutePath(), key.toAbsolutePath(),
        ca.toAbsolutePath());
  }
}
