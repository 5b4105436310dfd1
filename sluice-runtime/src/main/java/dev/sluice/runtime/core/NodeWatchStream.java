package dev.sluice.runtime.core;

import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.proto.ControlServiceGrpc;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import dev.sluice.runtime.rpc.proto.WatchNodesRequest;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import java.util.function.Consumer;

/**
 * One {@code WatchNodes} subscription to the control service's node table: hands each node entry to
 * {@code onNode} and says once why the subscription ended ({@code onEnd}), unless it was cancelled
 * here. It runs in a context of its own, so that {@link #cancel} ends it and nothing else.
 *
 * <p>Threads: {@code onNode} and {@code onEnd} run on a transport thread and must not block; {@link
 * #cancel} may be called from any thread.
 */
final class NodeWatchStream {
  private final Context.CancellableContext context = Context.ROOT.withCancellation();

  private NodeWatchStream() {}

  /** Opens a subscription to the control service at {@code controlTarget}. */
  static NodeWatchStream open(
      ChannelPool channels,
      String controlTarget,
      Consumer<NodeInfo> onNode,
      Consumer<String> onEnd) {
    NodeWatchStream s = new NodeWatchStream();
    s.context.run(
        () ->
            ControlServiceGrpc.newStub(channels.get(controlTarget))
                .watchNodes(
                    WatchNodesRequest.getDefaultInstance(),
                    new StreamObserver<>() {
                      @Override
                      public void onNext(NodeInfo info) {
                        onNode.accept(info);
                      }

                      @Override
                      public void onError(Throwable t) {
                        onEnd.accept(t.toString());
                      }

                      @Override
                      public void onCompleted() {
                        onEnd.accept("control service ended the subscription");
                      }
                    }));
    return s;
  }

  /** Ends the subscription. */
  void cancel() {
    context.cancel(null);
  }
}
