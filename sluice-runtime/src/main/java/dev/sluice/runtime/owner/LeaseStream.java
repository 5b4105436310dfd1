package dev.sluice.runtime.owner;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.protobuf.ByteString;
import dev.sluice.TaskId;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.FramedConnection;
import dev.sluice.runtime.rpc.LocalSockets;
import dev.sluice.runtime.rpc.proto.CoreWorkerServiceGrpc;
import dev.sluice.runtime.rpc.proto.LeaseReply;
import dev.sluice.runtime.rpc.proto.PushTaskBatch;
import dev.sluice.runtime.rpc.proto.TaskResult;
import dev.sluice.runtime.rpc.proto.TaskResultBatch;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A granted lease and its task stream to the leased worker (the adaptor owning that stream: framed
 * over the worker's Unix domain socket when it is on this node ({@link FramedConnection}), else
 * gRPC {@code PushTasks}; both present the same observers): the tasks in flight on it, what the
 * worker said about them, and the observer of the replies the worker streams back ({@link
 * #results}). The stream is opened on grant ({@link #open}) and closed when the lease is returned.
 *
 * <p>Threads: the state fields are guarded by the monitor of the lease's {@link KeyState}; sends on
 * the stream are serialized by this object's own monitor, and a framed stream writes on the sending
 * thread itself. The results observer runs on a transport thread (a framed connection's reader).
 */
final class LeaseStream {
  private static final Logger log = LoggerFactory.getLogger(LeaseStream.class);

  /** What the results observer asks of the submitter. */
  interface Events {
    /** Plans key {@code ks} (the caller holds its monitor); returns what to run after release. */
    @GuardedBy("ks")
    Runnable planLocked(KeyState ks);

    /** Task {@code id} was put back in the queue. */
    void queued(TaskId id);

    /** The lease's worker failed (its stream broke or closed). */
    void workerFailed(KeyState ks, LeaseStream lease, Throwable t);
  }

  final LeaseReply grant;

  /** The node manager that granted it, where it is returned. */
  final String grantedBy;

  final Map<TaskId, TaskSpec> inFlight = new LinkedHashMap<>();

  /**
   * Tasks in flight the worker reported started while an earlier one still ran (blocked); with the
   * first in flight, these are the ones a worker death charges.
   */
  final Set<ByteString> started = new HashSet<>();

  private StreamObserver<PushTaskBatch> requests;

  /** When the lease last ran out of work (System.nanoTime), or -1 while it has some. */
  long idleSinceNanos = -1;

  /** Tasks pushed on this lease so far: a lease that ran several is warm (its key loops). */
  long tasksRun;

  boolean dead;

  /** A steal request is out and its steal_done has not come back. */
  boolean stealPending;

  LeaseStream(LeaseReply grant, String grantedBy) {
    this.grant = grant;
    this.grantedBy = grantedBy;
  }

  /**
   * Opens the task stream to the leased worker over {@code channels}: its replies go to the {@link
   * #results} observer of key {@code ks}.
   */
  void open(ChannelPool channels, KeyState ks, TaskManager taskManager, Events events) {
    StreamObserver<TaskResultBatch> results = results(ks, taskManager, events);
    Optional<Path> framed = LocalSockets.framedRoute(grant.getWorker(), channels.localNode());
    StreamObserver<PushTaskBatch> stream =
        framed.isPresent()
            ? FramedConnection.connect(
                framed.get(),
                channels.factory().security().token(),
                channels.factory().maxMessageBytes(),
                TaskResultBatch.parser(),
                results)
            : CoreWorkerServiceGrpc.newStub(channels.get(grant.getWorker())).pushTasks(results);
    synchronized (this) {
      this.requests = stream;
    }
  }

  String describeWorker() {
    return "worker "
        + Addresses.workerId(grant.getWorker())
        + " (pid "
        + grant.getWorkerPid()
        + ") on node "
        + Addresses.nodeId(grant.getWorker());
  }

  synchronized void send(PushTaskBatch batch) {
    requests.onNext(batch);
  }

  /** Sends a reply or a cancel; if the stream already closed, the worker no longer needs it. */
  synchronized void sendQuietly(PushTaskBatch batch) {
    try {
      requests.onNext(batch);
    } catch (RuntimeException e) {
      log.debug("message not sent (task stream closed): {}", e.toString());
    }
  }

  /** Closes the task stream (the lease is being returned). */
  void close() {
    try {
      synchronized (this) {
        requests.onCompleted();
      }
    } catch (RuntimeException e) {
      log.debug("closing a task stream failed: {}", e.toString());
    }
  }

  /** True if {@code batch} carries generator reports and nothing else. */
  private static boolean onlyReports(TaskResultBatch batch) {
    return batch.getResultsCount() == 0
        && batch.getStartedTaskIdsCount() == 0
        && !batch.getStealDone();
  }

  /**
   * The observer of the replies this lease's worker streams back: generator reports go to the task
   * manager (answered in-band), finished tasks complete, tasks given back are queued again and the
   * key is planned again.
   */
  private StreamObserver<TaskResultBatch> results(
      KeyState ks, TaskManager taskManager, Events events) {
    return new StreamObserver<>() {
      @Override
      public void onNext(TaskResultBatch batch) {
        taskManager.handleReports(batch.getReportsList(), LeaseStream.this::sendQuietly);
        if (onlyReports(batch)) {
          // A generator's reports change nothing the key plans with: no need to plan again.
          return;
        }
        KeyState.Replies replies;
        Runnable actions;
        synchronized (ks) {
          replies = ks.applyReplies(LeaseStream.this, batch);
          actions = events.planLocked(ks);
        }
        replies.requeued().forEach(spec -> events.queued(KeyState.taskId(spec)));
        for (TaskResult r : replies.finished()) {
          taskManager.complete(TaskId.fromBytes(r.getTaskId().toByteArray()), r.getReply());
        }
        actions.run();
      }

      @Override
      public void onError(Throwable t) {
        events.workerFailed(ks, LeaseStream.this, t);
      }

      @Override
      public void onCompleted() {
        events.workerFailed(
            ks, LeaseStream.this, new IllegalStateException("worker closed its task stream"));
      }
    };
  }
}
