package dev.sluice.runtime.rpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import javax.net.ssl.SSLException;

/**
 * Why a first call to a cluster endpoint failed, read from the gRPC status and its cause chain, so
 * that the caller can say what went wrong and what to do: the token was refused, TLS does not match
 * on the two sides, or nothing answers. Immutable and thread-safe.
 *
 * @param kind what went wrong
 * @param detail the underlying reason in one line (the status description or the root cause)
 */
public record ConnectFailure(Kind kind, String detail) {
  private static final int MAX_CAUSES = 32;
  private static final String NOT_TLS_RECORD = "NotSslRecordException";

  /** What went wrong. */
  public enum Kind {
    /** The endpoint answered but refused the cluster token. */
    TOKEN_REFUSED,
    /** This side uses TLS, the endpoint does not. */
    PEER_NOT_TLS,
    /** The endpoint closed a plaintext connection at once: it most likely requires TLS. */
    PEER_REQUIRES_TLS,
    /** This side did not accept the endpoint's certificate (other CA, address not named). */
    PEER_CERTIFICATE_REJECTED,
    /** The endpoint did not accept this side's client certificate (missing, other CA). */
    OWN_CERTIFICATE_REJECTED,
    /** Nothing answers: no process listens, the host is unknown or the call timed out. */
    UNREACHABLE
  }

  /** Classifies the failure {@code e} of a call made with or without TLS ({@code ownTls}). */
  public static ConnectFailure of(StatusRuntimeException e, boolean ownTls) {
    Status status = e.getStatus();
    String description =
        status.getDescription() != null ? status.getDescription() : status.getCode().toString();
    if (status.getCode() == Status.Code.UNAUTHENTICATED) {
      return new ConnectFailure(Kind.TOKEN_REFUSED, description);
    }
    Throwable root = e;
    boolean connectFailed = false;
    Kind tls = null;
    int guard = 0;
    for (Throwable c = e.getCause(); c != null && guard < MAX_CAUSES; c = c.getCause(), guard++) {
      root = c;
      if (c instanceof ConnectException || c instanceof UnknownHostException) {
        connectFailed = true;
      } else if (c.getClass().getSimpleName().equals(NOT_TLS_RECORD)) {
        tls = Kind.PEER_NOT_TLS;
      } else if (c instanceof CertPathValidatorException || c instanceof CertificateException) {
        tls = Kind.PEER_CERTIFICATE_REJECTED;
      } else if ((c instanceof SSLException || isOpenSslAlert(c)) && tls == null) {
        tls = Kind.OWN_CERTIFICATE_REJECTED;
      }
    }
    String detail = root == e ? description : firstLine(root);
    if (tls == Kind.OWN_CERTIFICATE_REJECTED
        && root instanceof SSLException
        && !isOpenSslAlert(root)) {
      tls = Kind.PEER_CERTIFICATE_REJECTED;
    }
    if (tls != null) {
      return new ConnectFailure(tls, detail);
    }
    if (!connectFailed
        && !ownTls
        && status.getCode() == Status.Code.UNAVAILABLE
        && e.getCause() == null) {
      return new ConnectFailure(Kind.PEER_REQUIRES_TLS, description);
    }
    return new ConnectFailure(
        Kind.UNREACHABLE, status.getCode() + (root == e ? ", " + description : ", " + detail));
  }

  /** A TLS alert the peer sent (BoringSSL reports it as its own exception type). */
  private static boolean isOpenSslAlert(Throwable t) {
    String m = t.getMessage();
    return t.getClass().getSimpleName().equals("OpenSslException")
        || (m != null && m.contains("TLSV1_ALERT"));
  }

  private static String firstLine(Throwable t) {
    String m = t.getMessage() != null ? t.getMessage() : t.getClass().getName();
    int nl = m.indexOf('\n');
    return nl >= 0 ? m.substring(0, nl) : m;
  }
}
