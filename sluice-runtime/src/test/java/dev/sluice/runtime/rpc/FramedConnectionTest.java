package dev.sluice.runtime.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.rpc.proto.PushTaskBatch;
import dev.sluice.runtime.rpc.proto.TaskResult;
import dev.sluice.runtime.rpc.proto.TaskResultBatch;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Framed task streams on a Unix domain socket (DESIGN "FramedConnection"): messages round trip in
 * order, also past the socket's buffer; the cluster token is checked on connect; the socket file is
 * owner-only and removed on close; and a broken connection fails the stream on both sides with
 * {@code onError} (UNAVAILABLE), as a broken gRPC stream does, while an orderly end is {@code
 * onCompleted}.
 */
@Timeout(60)
class FramedConnectionTest {
  private static final int MAX_MESSAGE = 64 << 20;
  private static final long WAIT_SECONDS = 30;

  @TempDir Path sessionDir;

  private final String token = RpcSecurity.generateToken();
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
  }

  /** Records what an observer was told; completes {@code end} on onCompleted or onError. */
  private static final class Recorder<T> implements StreamObserver<T> {
    final List<T> messages = new CopyOnWriteArrayList<>();
    final CompletableFuture<Throwable> end = new CompletableFuture<>();
    final AtomicInteger ends = new AtomicInteger();

    @Override
    public void onNext(T value) {
      messages.add(value);
    }

    @Override
    public void onError(Throwable t) {
      ends.incrementAndGet();
      end.complete(t);
    }

    @Override
    public void onCompleted() {
      ends.incrementAndGet();
      end.complete(null);
    }

    Throwable awaitEnd() throws Exception {
      return end.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }
  }

  /** The server side of one accepted stream: records it, echoes each batch's tasks as results. */
  private final class EchoServer {
    final CompletableFuture<StreamObserver<TaskResultBatch>> out = new CompletableFuture<>();
    final Recorder<PushTaskBatch> in = new Recorder<>();
    final FramedServer<PushTaskBatch, TaskResultBatch> server;

    EchoServer(boolean completeOnEnd) throws Exception {
      Path socket = LocalSockets.directory(sessionDir).resolve("w.tasks");
      server =
          FramedServer.start(
              socket,
              token,
              MAX_MESSAGE,
              PushTaskBatch.parser(),
              o -> {
                out.complete(o);
                return new StreamObserver<>() {
                  @Override
                  public void onNext(PushTaskBatch b) {
                    in.onNext(b);
                    TaskResultBatch.Builder reply = TaskResultBatch.newBuilder();
                    b.getCancelTaskIdsList()
                        .forEach(id -> reply.addResults(TaskResult.newBuilder().setTaskId(id)));
                    o.onNext(reply.build());
                  }

                  @Override
                  public void onError(Throwable t) {
                    in.onError(t);
                  }

                  @Override
                  public void onCompleted() {
                    in.onCompleted();
                    if (completeOnEnd) {
                      o.onCompleted();
                    }
                  }
                };
              });
      toClose.add(server);
    }

    StreamObserver<PushTaskBatch> connect(String withToken, Recorder<TaskResultBatch> results) {
      return FramedConnection.connect(
          server.socket(), withToken, MAX_MESSAGE, TaskResultBatch.parser(), results);
    }
  }

  private static PushTaskBatch push(int i, int padding) {
    return PushTaskBatch.newBuilder()
        .addCancelTaskIds(ByteString.copyFromUtf8(i + ":" + "p".repeat(padding)))
        .build();
  }

  private static void awaitSize(List<?> list, int n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
    while (list.size() < n && System.nanoTime() < deadline) {
      Thread.sleep(5); // polling a condition, not a fixed wait
    }
    assertThat(list).hasSizeGreaterThanOrEqualTo(n);
  }

  @Test
  void messagesRoundTripInOrderAndAnOrderlyEndCompletesBothSides() throws Exception {
    EchoServer echo = new EchoServer(true);
    Recorder<TaskResultBatch> results = new Recorder<>();
    StreamObserver<PushTaskBatch> requests = echo.connect(token, results);

    // 8 MiB messages pass any socket buffer: the rest is queued and written by the reader thread
    for (int i = 0; i < 200; i++) {
      requests.onNext(push(i, i % 50 == 0 ? 8 << 20 : 10));
    }
    awaitSize(results.messages, 200);
    requests.onCompleted();

    assertThat(echo.in.awaitEnd()).as("server side ends with onCompleted").isNull();
    assertThat(results.awaitEnd()).as("client side ends with onCompleted").isNull();
    for (int i = 0; i < 200; i++) {
      assertThat(results.messages.get(i).getResults(0).getTaskId().toStringUtf8())
          .startsWith(i + ":");
    }
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(echo.server.socket())))
        .isEqualTo("rw-------");
  }

  @Test
  void aClientWithAnotherClustersTokenIsRefusedAsUnauthenticated() throws Exception {
    EchoServer echo = new EchoServer(true);
    Recorder<TaskResultBatch> results = new Recorder<>();

    echo.connect(RpcSecurity.generateToken(), results).onNext(push(1, 1));

    assertThat(results.awaitEnd())
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    assertThat(echo.out).as("the call logic never saw the connection").isNotDone();
    assertThat(echo.in.messages).isEmpty();
  }

  @Test
  void aServerShutdownFailsTheStreamsInFlightOnBothSidesAndRemovesTheSocket() throws Exception {
    EchoServer echo = new EchoServer(true);
    Recorder<TaskResultBatch> results = new Recorder<>();
    StreamObserver<PushTaskBatch> requests = echo.connect(token, results);
    requests.onNext(push(1, 1));
    awaitSize(results.messages, 1);

    echo.server.close();

    assertThat(echo.in.awaitEnd())
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    assertThat(results.awaitEnd())
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    assertThat(Files.exists(echo.server.socket())).isFalse();
    // sends after the break are dropped, as on a broken gRPC stream; no second end is reported
    requests.onNext(push(2, 1));
    assertThat(results.ends).hasValue(1);
  }

  @Test
  void aClientThatGoesAwayWithoutItsEndFailsTheServersStream() throws Exception {
    EchoServer echo = new EchoServer(true);
    Recorder<TaskResultBatch> results = new Recorder<>();
    StreamObserver<PushTaskBatch> requests = echo.connect(token, results);
    requests.onNext(push(1, 1));
    awaitSize(echo.in.messages, 1);

    requests.onError(new IllegalStateException("owner gone"));

    assertThat(echo.in.awaitEnd())
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @Test
  void aSocketThatIsNotThereFailsTheStreamAsUnavailable() throws Exception {
    Recorder<TaskResultBatch> results = new Recorder<>();

    FramedConnection.<TaskResultBatch, PushTaskBatch>connect(
            sessionDir.resolve("none.tasks"), token, MAX_MESSAGE, TaskResultBatch.parser(), results)
        .onNext(push(1, 1));

    assertThat(results.awaitEnd())
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }
}
