package dev.sluice.runtime.driver;

import dev.sluice.RuntimeStartupException;
import dev.sluice.runtime.rpc.ConnectFailure;
import dev.sluice.runtime.rpc.RpcSecurity;

/**
 * Turns a driver's failed first call to a cluster's control service into a {@link
 * RuntimeStartupException} that says what went wrong (refused token, TLS on one side only, a
 * certificate not accepted, nothing answering) and what to do about it. Stateless.
 */
final class ConnectErrors {
  private ConnectErrors() {}

  /** The exception for failure {@code f} (caused by {@code cause}) of a call to {@code target}. */
  static RuntimeStartupException of(ConnectFailure f, String target, Throwable cause) {
    String why =
        switch (f.kind()) {
          case TOKEN_REFUSED ->
              "the Sluice cluster at "
                  + target
                  + " refused this driver's cluster"
                  + " token ("
                  + f.detail()
                  + "); use that cluster's token: set "
                  + RpcSecurity.TOKEN_ENV_VAR
                  + " or SluiceConfig.builder().clusterToken(...) to the"
                  + " token 'sluice start --head' printed, or leave both unset on the head's machine"
                  + " (the token is then read from its session root)";
          case PEER_NOT_TLS ->
              "TLS mismatch: this driver uses TLS but the Sluice cluster at "
                  + target
                  + " does not ("
                  + f.detail()
                  + "); drop SluiceConfig.builder().tls(...) or"
                  + " start the cluster with --tls";
          case PEER_REQUIRES_TLS ->
              "the Sluice cluster at "
                  + target
                  + " closed the connection"
                  + " without answering ("
                  + f.detail()
                  + "): it most likely requires TLS, which this"
                  + " driver does not use; pass the cluster's TLS files with"
                  + " SluiceConfig.builder().tls(certChain, privateKey, trustedCa)";
          case PEER_CERTIFICATE_REJECTED ->
              "TLS handshake with the Sluice cluster at "
                  + target
                  + " failed: this driver did not accept the cluster's certificate ("
                  + f.detail()
                  + "); the trusted CA passed to SluiceConfig.builder().tls(...) must be the CA that"
                  + " signed the cluster's certificates, and they must name the address dialled in"
                  + " subjectAltName";
          case OWN_CERTIFICATE_REJECTED ->
              "TLS handshake with the Sluice cluster at "
                  + target
                  + " failed: the cluster did not accept this driver's client certificate ("
                  + f.detail()
                  + "); pass a certificate signed by the cluster's CA, with the clientAuth"
                  + " usage, to SluiceConfig.builder().tls(...)";
          case UNREACHABLE ->
              "no Sluice cluster answers at "
                  + target
                  + " ("
                  + f.detail()
                  + "); start one with 'sluice start --head' or check the address";
        };
    return new RuntimeStartupException(why, cause);
  }
}
