package dev.sluice.runtime.owner;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.protobuf.ByteString;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.CancelLeaseRequest;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.LeaseReply;
import dev.sluice.runtime.rpc.proto.LeaseRequest;
import dev.sluice.runtime.rpc.proto.ReturnWorkerReply;
import dev.sluice.runtime.rpc.proto.ReturnWorkerRequest;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Lease requests against fake node managers: the redirect bound, late grants and deferral. */
class LeaseRequesterTest {
  private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
  private final List<String> targets = new CopyOnWriteArrayList<>();
  private final List<LeaseRequest> requests = new CopyOnWriteArrayList<>();
  private final List<ReturnWorkerRequest> returned = new CopyOnWriteArrayList<>();
  private final List<ErrorInfo> failures = new CopyOnWriteArrayList<>();
  private final CountDownLatch duePlanned = new CountDownLatch(1);

  @AfterEach
  void stopTimers() {
    timers.shutdownNow();
  }

  /** Node managers that answer every lease request with {@code answer}, at once. */
  private LeaseRequester.NodeManagers answering(Function<String, LeaseReply> answer) {
    return new LeaseRequester.NodeManagers() {
      @Override
      public void requestWorkerLease(
          String target,
          LeaseRequest request,
          Consumer<LeaseReply> reply,
          Consumer<Throwable> failed) {
        targets.add(target);
        requests.add(request);
        reply.accept(answer.apply(target));
      }

      @Override
      public void cancelWorkerLease(String target, CancelLeaseRequest request) {}

      @Override
      public CompletableFuture<ReturnWorkerReply> returnWorker(
          String target, ReturnWorkerRequest request) {
        returned.add(request);
        return new CompletableFuture<>();
      }
    };
  }

  private LeaseRequester requester(LeaseRequester.NodeManagers nodeManagers) {
    return new LeaseRequester(
        nodeManagers,
        "local",
        Address.getDefaultInstance(),
        timers,
        Duration.ZERO,
        new LeaseRequester.Events() {
          @Override
          @GuardedBy("ks")
          public Runnable planLocked(KeyState ks) {
            if (ks.leaseRequestDue) {
              duePlanned.countDown();
            }
            return () -> {};
          }

          @Override
          public Runnable grantedLocked(KeyState ks, LeaseReply grant, String grantedBy) {
            throw new AssertionError("no grant expected");
          }

          @Override
          public void failTask(TaskSpec spec, ErrorInfo error) {
            failures.add(error);
          }

          @Override
          public boolean closed() {
            return false;
          }
        });
  }

  private static KeyState keyWithOneTask() {
    KeyState ks =
        new KeyState("{CPU=1.0}", ByteString.copyFromUtf8("job"), Map.of("CPU", 1.0), null, false);
    synchronized (ks) {
      ks.queue.add(
          TaskSpec.newBuilder()
              .setTaskId(ByteString.copyFrom(new byte[16]))
              .setDisplayName("f")
              .build());
    }
    return ks;
  }

  @Test
  void aRequestIsSentOnAtMostMaxLeaseRedirectsTimesThenFailsAsUnschedulable() {
    // Every node sends the request on to the next one: they will never agree.
    LeaseRequester requester =
        requester(
            answering(
                target ->
                    LeaseReply.newBuilder()
                        .setSpillback(Address.newBuilder().setHost("node").setPort(targets.size()))
                        .build()));
    KeyState ks = keyWithOneTask();
    ByteString id = ByteString.copyFromUtf8("r1");
    synchronized (ks) {
      ks.pendingLeaseRequests.add(id);
    }
    requester.requestLease(ks, id);
    assertThat(requests).hasSize(1 + LeaseRequester.MAX_LEASE_REDIRECTS);
    assertThat(requests).extracting(LeaseRequest::getSpillbackCount).containsExactly(0, 1, 2, 3, 4);
    assertThat(targets.getFirst()).isEqualTo("local");
    assertThat(failures)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getType()).isEqualTo(ErrorType.TASK_UNSCHEDULABLE);
              assertThat(e.getMessage())
                  .contains("sent on " + LeaseRequester.MAX_LEASE_REDIRECTS + " times");
            });
    synchronized (ks) {
      assertThat(ks.queue).isEmpty();
      assertThat(ks.pendingLeaseRequests).isEmpty();
    }
  }

  @Test
  void aGrantForARequestNoLongerWantedWithNoBacklogIsReturned() {
    LeaseRequester requester =
        requester(
            answering(
                target ->
                    LeaseReply.newBuilder().setLeaseId(ByteString.copyFromUtf8("lease")).build()));
    KeyState ks = keyWithOneTask();
    synchronized (ks) {
      ks.queue.clear();
    }
    requester.requestLease(ks, ByteString.copyFromUtf8("cancelled-meanwhile"));
    assertThat(returned)
        .singleElement()
        .satisfies(r -> assertThat(r.getLeaseId().toStringUtf8()).isEqualTo("lease"));
    synchronized (ks) {
      assertThat(ks.leases).isEmpty();
    }
  }

  @Test
  void deferredLeaseRequestsArePlannedDueAfterTheDelay() throws InterruptedException {
    LeaseRequester requester = requester(answering(target -> LeaseReply.getDefaultInstance()));
    requester.setLeaseRequestDelay(Duration.ofMillis(1));
    assertThat(requester.defersRequests()).isTrue();
    KeyState ks = keyWithOneTask();
    synchronized (ks) {
      ks.leaseRequestScheduled = true;
    }
    requester.requestDeferred(ks);
    assertThat(duePlanned.await(30, TimeUnit.SECONDS)).isTrue();
    synchronized (ks) {
      assertThat(ks.leaseRequestScheduled).isFalse();
      assertThat(ks.leaseRequestDue).as("due only while that plan runs").isFalse();
    }
  }
}
