package dev.sluice.runtime.rpc;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * How the processes of one cluster recognise each other on the wire: a shared cluster token that
 * every RPC carries, and optionally mutual TLS.
 *
 * <p>The head generates the token once ({@link #generateToken()}) and hands it to every process it
 * starts; servers refuse calls that do not carry it. The token keeps other local users and stray
 * programs from driving the cluster; mutual TLS adds encryption and proof of identity between
 * hosts, which a bearer token sent in clear cannot give.
 *
 * <p>Immutable. {@link #toString()} never shows the token.
 */
public final class RpcSecurity {
  /** Environment variable through which a process receives the token (never a command line). */
  public static final String TOKEN_ENV_VAR = "SLUICE_CLUSTER_TOKEN";

  private static final int TOKEN_BYTES = 32;
  private static final int MIN_TOKEN_CHARS = 16;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String token;
  private final TlsFiles tls;

  private RpcSecurity(String token, TlsFiles tls) {
    this.token = token;
    this.tls = tls;
  }

  /**
   * The files of mutual TLS, all PEM: this process's certificate chain, its PKCS#8 private key, and
   * the CA that signs every certificate of the cluster. The same pair serves as server and client
   * certificate, so it needs both the serverAuth and clientAuth usages (or none). Channels verify
   * the server's certificate against the IP or host name they dial, so each certificate must list
   * its node's address in subjectAltName.
   *
   * @param certChain this process's certificate, followed by any intermediates
   * @param privateKey the certificate's private key, unencrypted PKCS#8
   * @param trustedCa the cluster CA's certificate
   */
  public record TlsFiles(Path certChain, Path privateKey, Path trustedCa) {
    /** Checks that no file is missing from the description. */
    public TlsFiles {
      Objects.requireNonNull(certChain, "certChain");
      Objects.requireNonNull(privateKey, "privateKey");
      Objects.requireNonNull(trustedCa, "trustedCa");
    }
  }

  /** A fresh random 256-bit cluster token, base64url without padding (43 characters). */
  public static String generateToken() {
    byte[] secret = new byte[TOKEN_BYTES];
    RANDOM.nextBytes(secret);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
  }

  /**
   * Token authentication without TLS.
   *
   * @throws IllegalArgumentException if the token is too short to be a secret or contains
   *     characters a gRPC header cannot carry
   */
  public static RpcSecurity token(String token) {
    Objects.requireNonNull(token, "token");
    if (token.length() < MIN_TOKEN_CHARS) {
      throw new IllegalArgumentException(
          "cluster token must have at least "
              + MIN_TOKEN_CHARS
              + " characters; use RpcSecurity.generateToken()");
    }
    if (!token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      throw new IllegalArgumentException("cluster token must be printable ASCII without spaces");
    }
    return new RpcSecurity(token, null);
  }

  /**
   * The token in {@code env} under {@link #TOKEN_ENV_VAR}: how a process started by the cluster
   * picks up the secret its parent gave it.
   *
   * @throws IllegalArgumentException if the variable is unset or not a valid token
   */
  public static RpcSecurity fromEnvironment(Map<String, String> env) {
    String value = env.get(TOKEN_ENV_VAR);
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException(
          "environment variable " + TOKEN_ENV_VAR + " (the cluster token) is not set");
    }
    return token(value);
  }

  /** The same token, with mutual TLS using the given PEM files (see {@link TlsFiles}). */
  public RpcSecurity withTls(Path certChain, Path privateKey, Path trustedCa) {
    return withTls(new TlsFiles(certChain, privateKey, trustedCa));
  }

  /** The same token, with mutual TLS using {@code files}. */
  public RpcSecurity withTls(TlsFiles files) {
    return new RpcSecurity(token, Objects.requireNonNull(files, "files"));
  }

  /** The cluster token. Treat as a password: do not log it or put it on a command line. */
  public String token() {
    return token;
  }

  /** The TLS files, or empty for plaintext transport. */
  public Optional<TlsFiles> tls() {
    return Optional.ofNullable(tls);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RpcSecurity other
        && token.equals(other.token)
        && Objects.equals(tls, other.tls);
  }

  @Override
  public int hashCode() {
    return Objects.hash(token, tls);
  }

  @Override
  public String toString() {
    return "RpcSecurity[token=<redacted>, tls=" + (tls == null ? "off" : tls) + "]";
  }
}
