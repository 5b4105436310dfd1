package dev.sluice.runtime.dashboard;

import dev.sluice.runtime.logging.LogFiles;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.proto.ListLogsRequest;
import dev.sluice.runtime.rpc.proto.LogChunk;
import dev.sluice.runtime.rpc.proto.LogFileInfo;
import dev.sluice.runtime.rpc.proto.NodeManagerServiceGrpc;
import dev.sluice.runtime.rpc.proto.ReadLogRequest;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The dashboard's proxy to the node managers' log service (DESIGN "Dashboard"): lists a node's log
 * files ({@code ListLogs}) and reads a bounded piece of one ({@code ReadLog}, never following),
 * over one channel per node manager kept for later requests (with the cluster's token and TLS, as
 * every client). The node manager serves only plain file names of its logs directory; this client
 * maps its answers to {@link LogRequestException}s that name the node and the file.
 *
 * <p>Thread-safe: request threads call it at once; channels are made on first use.
 */
final class NodeLogClient implements AutoCloseable {
  private static final long DEADLINE_SECONDS = 10;

  /** A piece of a log file: its bytes and the file position of the first. */
  record Piece(long offset, byte[] data) {}

  private final RpcFactory rpc;
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

  NodeLogClient(RpcFactory rpc) {
    this.rpc = rpc;
  }

  /** The log files of the node manager at {@code target} ({@code node} names it in errors). */
  List<LogFiles.Entry> list(String node, String target) throws LogRequestException {
    try {
      List<LogFiles.Entry> files = new ArrayList<>();
      for (LogFileInfo f :
          NodeManagerServiceGrpc.newBlockingStub(channel(target))
              .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
              .listLogs(ListLogsRequest.getDefaultInstance())
              .getFilesList()) {
        files.add(new LogFiles.Entry(f.getName(), f.getSize(), f.getModifiedMillis()));
      }
      return files;
    } catch (StatusRuntimeException e) {
      throw failure(node, target, null, e);
    }
  }

  /**
   * At most {@code maxBytes} of file {@code name} of the node manager at {@code target}, from byte
   * {@code offset} on, or (offset null) from the start of its last {@code tailLines} lines.
   */
  Piece read(String node, String target, String name, Long offset, int tailLines, int maxBytes)
      throws LogRequestException {
    ReadLogRequest.Builder req =
        ReadLogRequest.newBuilder().setName(name).setTailLines(tailLines).setMaxBytes(maxBytes);
    if (offset != null) {
      req.setOffset(offset);
    }
    Context.CancellableContext call = Context.current().withCancellation();
    try {
      return call.call(
          () -> {
            Iterator<LogChunk> chunks =
                NodeManagerServiceGrpc.newBlockingStub(channel(target))
                    .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                    .readLog(req.build());
            ByteArrayOutputStream data = new ByteArrayOutputStream();
            long start = -1;
            while (data.size() < maxBytes && chunks.hasNext()) {
              LogChunk c = chunks.next();
              if (start < 0) {
                start = c.getOffset();
              }
              int room = maxBytes - data.size();
              c.getData().substring(0, Math.min(room, c.getData().size())).writeTo(data);
            }
            return new Piece(Math.max(start, 0), data.toByteArray());
          });
    } catch (StatusRuntimeException e) {
      throw failure(node, target, name, e);
    } catch (Exception e) {
      throw new LogRequestException(
          502, "reading " + name + " from node " + node + " failed: " + e, e);
    } finally {
      call.cancel(null); // a node that sends more than asked for is stopped here
    }
  }

  /** Closes the channels to node managers other than {@code liveTargets}. */
  void retain(Set<String> liveTargets) {
    channels
        .entrySet()
        .removeIf(
            e -> {
              if (liveTargets.contains(e.getKey())) {
                return false;
              }
              RpcFactory.shutdownQuietly(e.getValue());
              return true;
            });
  }

  private ManagedChannel channel(String target) {
    return channels.computeIfAbsent(target, rpc::newChannel);
  }

  private static LogRequestException failure(
      String node, String target, String name, StatusRuntimeException e) {
    Status s = e.getStatus();
    String what = name == null ? "its log files" : name;
    return switch (s.getCode()) {
      case INVALID_ARGUMENT ->
          new LogRequestException(
              400, "node " + node + " refused to read " + what + ": " + s.getDescription(), e);
      case NOT_FOUND ->
          new LogRequestException(404, "node " + node + " has no log file " + what, e);
      default ->
          new LogRequestException(
              502,
              "node "
                  + node
                  + " at "
                  + target
                  + " did not answer for "
                  + what
                  + " ("
                  + s.getCode()
                  + (s.getDescription() == null ? "" : ", " + s.getDescription())
                  + ")",
              e);
    };
  }

  @Override
  public void close() {
    retain(Set.of());
  }
}
