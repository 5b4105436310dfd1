package dev.sluice.runtime.rpc;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Times the unary calls a server serves, from the call's start to its close, and hands each time to
 * a {@link Recorder} (the process's metrics). Streaming calls live as long as their stream and are
 * not timed. Installed by {@link RpcFactory#startServer} when the factory has a recorder.
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
    MethodDescriptor<Q, R> method = call.getMethodDescriptor();
    if (method.getType() != MethodDescriptor.MethodType.UNARY) {
      return next.startCall(call, headers);
    }
    long start = System.nanoTime();
    String name = method.getFullMethodName();
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
