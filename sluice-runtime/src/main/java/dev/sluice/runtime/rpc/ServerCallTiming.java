package dev.sluice.runtime.rpc;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Times the calls a server serves, each from its start to its close, and hands each time to a
 * {@link RpcFactory.CallRecorder} (the process's metrics): a unary call per call, a streaming call
 * also once per call (as gRPC's {@code grpc.server.call.duration}: a long-lived stream counts when
 * it ends), which costs nothing per message. Installed by {@link RpcFactory#startServer} when the
 * factory has a recorder.
 *
 * <p>Threads: runs on the transport threads; records without blocking.
 */
final class ServerCallTiming implements ServerInterceptor {

  private final RpcFactory.CallRecorder recorder;

  ServerCallTiming(RpcFactory.CallRecorder recorder) {
    this.recorder = recorder;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    long start = System.nanoTime();
    String name = call.getMethodDescriptor().getFullMethodName();
    return next.startCall(
        new SimpleForwardingServerCall<>(call) {
          @Override
          public void close(Status status, Metadata trailers) {
            recorder.served(name, System.nanoTime() - start);
            super.close(status, trailers);
          }
        },
        headers);
  }
}
