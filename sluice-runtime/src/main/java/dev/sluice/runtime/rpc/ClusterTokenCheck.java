package dev.sluice.runtime.rpc;

import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses every call that does not carry the cluster token, before any service code sees it. {@link
 * RpcFactory} installs it as the outermost interceptor of every server, TCP and in-process alike,
 * so no service can be reached without the token.
 */
final class ClusterTokenCheck implements ServerInterceptor {
  /** Header carrying {@code Bearer <token>}. */
  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  /** Prefix of the header value. */
  static final String BEARER = "Bearer ";

  /** Status description of a refused call. */
  static final String REFUSED =
      "missing or wrong cluster token; this endpoint only serves "
          + "processes of its own Sluice cluster (check "
          + RpcSecurity.TOKEN_ENV_VAR
          + ")";

  private static final Logger log = LoggerFactory.getLogger(ClusterTokenCheck.class);

  private final byte[] expected;

  ClusterTokenCheck(String token) {
    this.expected = (BEARER + token).getBytes(StandardCharsets.US_ASCII);
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String presented = headers.get(AUTHORIZATION);
    if (presented != null
        && MessageDigest.isEqual(expected, presented.getBytes(StandardCharsets.US_ASCII))) {
      return next.startCall(call, headers);
    }
    log.warn(
        "refused {} from {}: {} cluster token",
        call.getMethodDescriptor().getFullMethodName(),
        call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR),
        presented == null ? "no" : "wrong");
    call.close(Status.UNAUTHENTICATED.withDescription(REFUSED), new Metadata());
    return new ServerCall.Listener<>() {};
  }
}
