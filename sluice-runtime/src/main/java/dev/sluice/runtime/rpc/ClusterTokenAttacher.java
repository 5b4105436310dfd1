package dev.sluice.runtime.rpc;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;

/**
 * Adds the cluster token to the headers of every call a channel makes; the counterpart of {@link
 * ClusterTokenCheck}. An interceptor rather than {@code CallCredentials} so that it works the same
 * on plaintext, TLS and in-process channels.
 */
final class ClusterTokenAttacher implements ClientInterceptor {
  private final String headerValue;

  ClusterTokenAttacher(String token) {
    this.headerValue = ClusterTokenCheck.BEARER + token;
  }

  @Override
  public <Q, R> ClientCall<Q, R> interceptCall(
      MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
    return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
      @Override
      public void start(Listener<R> listener, Metadata headers) {
        headers.put(ClusterTokenCheck.AUTHORIZATION, headerValue);
        super.start(listener, headers);
      }
    };
  }
}
