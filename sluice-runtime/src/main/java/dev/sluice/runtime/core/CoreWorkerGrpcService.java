package dev.sluice.runtime.core;

import dev.sluice.ActorId;
import dev.sluice.ObjectId;
import dev.sluice.TaskId;
import dev.sluice.WorkerId;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.executor.TaskReceiver;
import dev.sluice.runtime.executor.TaskStream;
import dev.sluice.runtime.owner.MemoryStore;
import dev.sluice.runtime.owner.ReferenceCounter;
import dev.sluice.runtime.rpc.FramedServer;
import dev.sluice.runtime.rpc.LocalSockets;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.proto.BorrowerUpdate;
import dev.sluice.runtime.rpc.proto.CancelTaskReply;
import dev.sluice.runtime.rpc.proto.CancelTaskRequest;
import dev.sluice.runtime.rpc.proto.CollectGarbageReply;
import dev.sluice.runtime.rpc.proto.CollectGarbageRequest;
import dev.sluice.runtime.rpc.proto.CoreWorkerServiceGrpc;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.ExitActorReply;
import dev.sluice.runtime.rpc.proto.ExitActorRequest;
import dev.sluice.runtime.rpc.proto.GetObjectReply;
import dev.sluice.runtime.rpc.proto.GetObjectRequest;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.PushTaskBatch;
import dev.sluice.runtime.rpc.proto.TaskResultBatch;
import dev.sluice.runtime.rpc.proto.UpdateBorrowersReply;
import dev.sluice.runtime.rpc.proto.UpdateBorrowersRequest;
import dev.sluice.runtime.rpc.proto.WorkersDiedReply;
import dev.sluice.runtime.rpc.proto.WorkersDiedRequest;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code CoreWorkerService} of one process: task streams and cancellations for its executor,
 * borrower updates and worker deaths for its reference table, garbage collection requests, and
 * {@code GetObject} for the objects it owns. Protobuf stops here: each call is turned into a call
 * on the receiver, the reference table or the memory store.
 *
 * <p>It owns the process's server ({@link #start}). The server binds before the receiver and the
 * reference table exist (they need its address), so they are handed over by {@link #serve}, before
 * the address is published. A worker also listens for framed task streams ({@link FramedServer})
 * beside its Unix domain socket, served by the same {@link TaskStream}s.
 *
 * <p>Threads: transport threads; no call blocks ({@code GetObject} answers when the value's future
 * completes, on the completing thread).
 */
final class CoreWorkerGrpcService extends CoreWorkerServiceGrpc.CoreWorkerServiceImplBase {
  private static final Logger log = LoggerFactory.getLogger(CoreWorkerGrpcService.class);

  private final MemoryStore store;
  private final WorkerId workerId;
  private volatile TaskReceiver receiver;
  private volatile ReferenceCounter refs;
  private Server server;

  /** The listener for processes of this node (null: none), and its socket path. */
  private Server localServer;

  private String localSocket = "";

  /** A worker's framed task-stream listener beside its socket (null: none). */
  private FramedServer<PushTaskBatch, TaskResultBatch> framedServer;

  CoreWorkerGrpcService(MemoryStore store, WorkerId workerId) {
    this.store = store;
    this.workerId = workerId;
  }

  /**
   * Binds the process's server, serving this service, at {@code bindHost} on a free port, and, with
   * a {@code sessionDir}, on a Unix domain socket in it for processes of the same node ({@link
   * LocalSockets}). A socket that cannot be made leaves the process on TCP alone.
   */
  void start(RpcFactory rpc, String bindHost, Path sessionDir, boolean isWorker)
      throws IOException {
    server = rpc.startServer(bindHost, 0, List.of(this));
    if (sessionDir == null || bindHost.startsWith(RpcFactory.IN_PROCESS_PREFIX)) {
      return;
    }
    try {
      Optional<Path> socket =
          LocalSockets.newSocketPath(sessionDir, isWorker ? "worker" : "driver");
      if (socket.isPresent()) {
        localServer = rpc.startDomainSocketServer(socket.get(), List.of(this));
        localSocket = socket.get().toString();
        if (isWorker) {
          startFramedServer(rpc, socket.get());
        }
      }
    } catch (IOException | RuntimeException e) {
      log.warn("no Unix domain socket listener, processes of this node use TCP: {}", e.toString());
    }
  }

  /**
   * Starts the worker's framed task-stream listener beside its gRPC socket ({@link
   * LocalSockets#framedPath}): owners of this node push leased tasks over it instead of {@code
   * PushTasks}. Without it, they use {@code PushTasks}.
   */
  private void startFramedServer(RpcFactory rpc, Path socket) {
    Optional<Path> framed = LocalSockets.framedPath(socket);
    if (framed.isEmpty()) {
      return;
    }
    try {
      framedServer =
          FramedServer.start(
              framed.get(),
              rpc.security().token(),
              rpc.maxMessageBytes(),
              PushTaskBatch.parser(),
              out -> TaskStream.open(receiver, out));
    } catch (IOException | RuntimeException e) {
      log.warn("no framed task-stream listener, owners use gRPC streams: {}", e.toString());
    }
  }

  /** The Unix domain socket the server also listens on, or empty. */
  String localSocket() {
    return localSocket;
  }

  /** The port the server listens on. */
  int port() {
    return server.getPort();
  }

  /** Stops the server (calls in progress are cut off). */
  void shutdown() {
    if (framedServer != null) {
      framedServer.close();
    }
    RpcFactory.shutdownQuietly(localServer);
    RpcFactory.shutdownQuietly(server);
  }

  /** Hands over the receiver and reference table the calls go to. */
  void serve(TaskReceiver receiver, ReferenceCounter refs) {
    this.receiver = receiver;
    this.refs = refs;
  }

  @Override
  public StreamObserver<PushTaskBatch> pushTasks(StreamObserver<TaskResultBatch> out) {
    return TaskStream.open(receiver, out);
  }

  @Override
  public void cancelTask(CancelTaskRequest req, StreamObserver<CancelTaskReply> out) {
    boolean found = receiver.cancel(TaskId.fromBytes(req.getTaskId().toByteArray()));
    out.onNext(CancelTaskReply.newBuilder().setAttempted(found).build());
    out.onCompleted();
  }

  /**
   * The control service tells this worker's actor to exit ({@code Sluice.kill}; the actor table
   * already says {@code DEAD}): answered first, then the process halts shortly after.
   */
  @Override
  public void exitActor(ExitActorRequest req, StreamObserver<ExitActorReply> out) {
    out.onNext(ExitActorReply.getDefaultInstance());
    out.onCompleted();
    receiver.exitActor(ActorId.fromBytes(req.getActorId().toByteArray()), req.getReason());
  }

  @Override
  public void updateBorrowers(
      UpdateBorrowersRequest req, StreamObserver<UpdateBorrowersReply> out) {
    for (BorrowerUpdate u : req.getUpdatesList()) {
      refs.updateBorrowers(
          ObjectId.fromBytes(u.getObjectId().toByteArray()),
          u.getBorrowerWorkerId(),
          u.getBorrowerNodeId(),
          u.getDelta());
    }
    out.onNext(UpdateBorrowersReply.getDefaultInstance());
    out.onCompleted();
  }

  @Override
  public void workersDied(WorkersDiedRequest req, StreamObserver<WorkersDiedReply> out) {
    req.getWorkerIdsList().forEach(refs::removeBorrower);
    out.onNext(WorkersDiedReply.getDefaultInstance());
    out.onCompleted();
  }

  @Override
  public void collectGarbage(CollectGarbageRequest req, StreamObserver<CollectGarbageReply> out) {
    // Off the transport thread: the collection frees unreachable refs, whose cleaners then
    // release their objects.
    Thread.ofVirtual().start(System::gc);
    out.onNext(CollectGarbageReply.getDefaultInstance());
    out.onCompleted();
  }

  @Override
  public void getObject(GetObjectRequest req, StreamObserver<GetObjectReply> out) {
    ObjectId id = ObjectId.fromBytes(req.getObjectId().toByteArray());
    CompletableFuture<ObjectValue> f = store.find(id);
    if (f == null) {
      f =
          CompletableFuture.completedFuture(
              Errors.value(
                  Errors.error(
                      ErrorType.OBJECT_LOST,
                      "object "
                          + id
                          + " is unknown to its owner "
                          + workerId
                          + " (never created there, or freed)")));
    }
    f.whenComplete(
        (v, e) -> {
          try {
            out.onNext(GetObjectReply.newBuilder().setValue(v).build());
            out.onCompleted();
          } catch (RuntimeException ex) {
            log.debug("could not answer GetObject for {}: {}", id, ex.toString());
          }
        });
  }
}
