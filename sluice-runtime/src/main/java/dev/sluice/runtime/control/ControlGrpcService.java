package dev.sluice.runtime.control;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.code.PackageReceiveStream;
import dev.sluice.runtime.code.PackageSendStream;
import dev.sluice.runtime.code.PackageStore;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.proto.ActorInfo;
import dev.sluice.runtime.rpc.proto.ActorWorkerDiedReply;
import dev.sluice.runtime.rpc.proto.ActorWorkerDiedRequest;
import dev.sluice.runtime.rpc.proto.AddJobReply;
import dev.sluice.runtime.rpc.proto.AddJobRequest;
import dev.sluice.runtime.rpc.proto.ControlServiceGrpc;
import dev.sluice.runtime.rpc.proto.DownloadPackageRequest;
import dev.sluice.runtime.rpc.proto.FinishJobReply;
import dev.sluice.runtime.rpc.proto.FinishJobRequest;
import dev.sluice.runtime.rpc.proto.GetActorReply;
import dev.sluice.runtime.rpc.proto.GetActorRequest;
import dev.sluice.runtime.rpc.proto.GetAllNodesReply;
import dev.sluice.runtime.rpc.proto.GetAllNodesRequest;
import dev.sluice.runtime.rpc.proto.GetJobReply;
import dev.sluice.runtime.rpc.proto.GetJobRequest;
import dev.sluice.runtime.rpc.proto.HasPackagesReply;
import dev.sluice.runtime.rpc.proto.HasPackagesRequest;
import dev.sluice.runtime.rpc.proto.JobInfo;
import dev.sluice.runtime.rpc.proto.KillActorReply;
import dev.sluice.runtime.rpc.proto.KillActorRequest;
import dev.sluice.runtime.rpc.proto.KvGetReply;
import dev.sluice.runtime.rpc.proto.KvGetRequest;
import dev.sluice.runtime.rpc.proto.KvPutReply;
import dev.sluice.runtime.rpc.proto.KvPutRequest;
import dev.sluice.runtime.rpc.proto.ListActorsReply;
import dev.sluice.runtime.rpc.proto.ListNodesReply;
import dev.sluice.runtime.rpc.proto.ListObjectsReply;
import dev.sluice.runtime.rpc.proto.ListStreamsReply;
import dev.sluice.runtime.rpc.proto.ListTasksReply;
import dev.sluice.runtime.rpc.proto.ListWorkersReply;
import dev.sluice.runtime.rpc.proto.NodeHeartbeatReply;
import dev.sluice.runtime.rpc.proto.NodeHeartbeatRequest;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import dev.sluice.runtime.rpc.proto.PackageChunk;
import dev.sluice.runtime.rpc.proto.PackageStatsReply;
import dev.sluice.runtime.rpc.proto.PackageStatsRequest;
import dev.sluice.runtime.rpc.proto.RegisterActorReply;
import dev.sluice.runtime.rpc.proto.RegisterActorRequest;
import dev.sluice.runtime.rpc.proto.RegisterNodeReply;
import dev.sluice.runtime.rpc.proto.RegisterNodeRequest;
import dev.sluice.runtime.rpc.proto.ReportTaskEventsReply;
import dev.sluice.runtime.rpc.proto.StateRequest;
import dev.sluice.runtime.rpc.proto.SummarizeTasksReply;
import dev.sluice.runtime.rpc.proto.SummarizeTasksRequest;
import dev.sluice.runtime.rpc.proto.TaskEventBatch;
import dev.sluice.runtime.rpc.proto.UnregisterNodeReply;
import dev.sluice.runtime.rpc.proto.UnregisterNodeRequest;
import dev.sluice.runtime.rpc.proto.UpdateActorReply;
import dev.sluice.runtime.rpc.proto.UpdateActorRequest;
import dev.sluice.runtime.rpc.proto.UploadPackageReply;
import dev.sluice.runtime.rpc.proto.WatchActorRequest;
import dev.sluice.runtime.rpc.proto.WatchNodesRequest;
import dev.sluice.runtime.state.StateGrpcService;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.List;

/**
 * The {@code ControlService} RPCs of a {@link ControlService}: each call becomes a call on it, its
 * refusals become statuses ({@code FAILED_PRECONDITION} for a dead node coming back, packages not
 * uploaded or a control service that keeps none; {@code INTERNAL} when packages cannot be read),
 * and package streams go to {@link PackageReceiveStream} and {@link PackageSendStream}. It owns the
 * control service's server.
 *
 * <p>Threads: handlers run on transport threads and never block: package look-ups, which may have
 * to index the head's class path, run on virtual threads ({@code sluice-add-job}, {@code
 * sluice-has-packages}).
 */
final class ControlGrpcService extends ControlServiceGrpc.ControlServiceImplBase {
  private final ControlService control;
  private final ChannelPool channels;
  private final ActorTableGrpcService actors;
  private final StateGrpcService state;
  private Server server;

  ControlGrpcService(ControlService control, RpcFactory rpc, HeadActorCreator headCreator) {
    this.control = control;
    this.channels = new ChannelPool(rpc);
    this.actors = new ActorTableGrpcService(control.actors(), headCreator, channels::get);
    this.state =
        new StateGrpcService(
            () -> control.allNodes().getNodesList(),
            control::actorRows,
            channels::get,
            StateGrpcService.DEFAULT_MAX_TASKS);
  }

  /** The state API's side of the control service. */
  StateGrpcService state() {
    return state;
  }

  /** Binds the control service's server at {@code bindHost:port} (0 picks a free port). */
  void start(RpcFactory rpc, String bindHost, int port) throws IOException {
    server = rpc.startServer(bindHost, port, List.of(this));
  }

  /** The port the server listens on. */
  int port() {
    return server.getPort();
  }

  /** Stops the server. */
  void shutdown() {
    RpcFactory.shutdownQuietly(server);
    channels.close();
  }

  @Override
  public void registerNode(RegisterNodeRequest req, StreamObserver<RegisterNodeReply> out) {
    try {
      control.registerNode(req.getNode());
    } catch (ControlService.NodeRefusedException e) {
      out.onError(Status.FAILED_PRECONDITION.withDescription(e.getMessage()).asRuntimeException());
      return;
    }
    out.onNext(RegisterNodeReply.getDefaultInstance());
    out.onCompleted();
  }

  @Override
  public void nodeHeartbeat(NodeHeartbeatRequest req, StreamObserver<NodeHeartbeatReply> out) {
    out.onNext(control.heartbeat(req));
    out.onCompleted();
  }

  @Override
  public void getAllNodes(GetAllNodesRequest req, StreamObserver<GetAllNodesReply> out) {
    out.onNext(control.allNodes());
    out.onCompleted();
  }

  @Override
  public void unregisterNode(UnregisterNodeRequest req, StreamObserver<UnregisterNodeReply> out) {
    control.unregisterNode(req.getNodeId(), req.getReason());
    out.onNext(UnregisterNodeReply.getDefaultInstance());
    out.onCompleted();
  }

  @Override
  public void watchNodes(WatchNodesRequest req, StreamObserver<NodeInfo> out) {
    ServerCallStreamObserver<NodeInfo> w = (ServerCallStreamObserver<NodeInfo>) out;
    ControlService.NodeWatch watch =
        new ControlService.NodeWatch() {
          @Override
          public void send(NodeInfo info) {
            w.onNext(info);
          }

          @Override
          public void end() {
            w.onCompleted();
          }
        };
    w.setOnCancelHandler(() -> control.unwatch(watch));
    control.watch(watch);
  }

  @Override
  public void addJob(AddJobRequest req, StreamObserver<AddJobReply> out) {
    if (req.getCodePackagesCount() > 0) {
      // Checking packages may index the head's class path: never on a transport thread.
      Thread.ofVirtual().name("sluice-add-job").start(() -> addJobNow(req, out));
    } else {
      addJobNow(req, out);
    }
  }

  private void addJobNow(AddJobRequest req, StreamObserver<AddJobReply> out) {
    ByteString job;
    try {
      job = control.addJob(req);
    } catch (ControlService.PackagesMissingException e) {
      out.onError(Status.FAILED_PRECONDITION.withDescription(e.getMessage()).asRuntimeException());
      return;
    } catch (IOException e) {
      out.onError(
          Status.INTERNAL
              .withDescription("cannot check the job's packages: " + e.getMessage())
              .asRuntimeException());
      return;
    }
    out.onNext(AddJobReply.newBuilder().setJobId(job).build());
    out.onCompleted();
  }

  @Override
  public void finishJob(FinishJobRequest req, StreamObserver<FinishJobReply> out) {
    control.finishJob(req.getJobId(), req.getReason());
    out.onNext(FinishJobReply.getDefaultInstance());
    out.onCompleted();
  }

  @Override
  public void getJob(GetJobRequest req, StreamObserver<GetJobReply> out) {
    JobInfo info = control.job(req.getJobId());
    out.onNext(
        info == null
            ? GetJobReply.getDefaultInstance()
            : GetJobReply.newBuilder().setFound(true).setJob(info).build());
    out.onCompleted();
  }

  @Override
  public void hasPackages(HasPackagesRequest req, StreamObserver<HasPackagesReply> out) {
    PackageStore packages = packagesOrFail(out);
    if (packages == null) {
      return;
    }
    Thread.ofVirtual()
        .name("sluice-has-packages")
        .start(
            () -> {
              try {
                out.onNext(
                    HasPackagesReply.newBuilder()
                        .addAllMissing(packages.missing(req.getSha256List()))
                        .build());
                out.onCompleted();
              } catch (IOException | RuntimeException e) {
                out.onError(
                    Status.INTERNAL
                        .withDescription("cannot index the head's packages: " + e.getMessage())
                        .asRuntimeException());
              }
            });
  }

  @Override
  public StreamObserver<PackageChunk> uploadPackage(StreamObserver<UploadPackageReply> out) {
    PackageStore packages = packagesOrFail(out);
    if (packages == null) {
      return new StreamObserver<>() {
        @Override
        public void onNext(PackageChunk value) {}

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {}
      };
    }
    return new PackageReceiveStream(packages, out);
  }

  @Override
  public void downloadPackage(DownloadPackageRequest req, StreamObserver<PackageChunk> out) {
    PackageStore packages = packagesOrFail(out);
    if (packages != null) {
      PackageSendStream.start(packages, req, out);
    }
  }

  @Override
  public void getPackageStats(PackageStatsRequest req, StreamObserver<PackageStatsReply> out) {
    out.onNext(control.packageStats());
    out.onCompleted();
  }

  /** The package store, or null after failing the call: this control service keeps none. */
  private PackageStore packagesOrFail(StreamObserver<?> out) {
    PackageStore packages = control.packages();
    if (packages == null) {
      out.onError(
          Status.FAILED_PRECONDITION
              .withDescription("this control service keeps no code packages")
              .asRuntimeException());
    }
    return packages;
  }

  @Override
  public void kvPut(KvPutRequest req, StreamObserver<KvPutReply> out) {
    control.kvPut(req.getKey(), req.getValue());
    out.onNext(KvPutReply.getDefaultInstance());
    out.onCompleted();
  }

  @Override
  public void kvGet(KvGetRequest req, StreamObserver<KvGetReply> out) {
    ByteString v = control.kvGet(req.getKey());
    out.onNext(
        v == null
            ? KvGetReply.getDefaultInstance()
            : KvGetReply.newBuilder().setFound(true).setValue(v).build());
    out.onCompleted();
  }

  // ------------------------------------------------------------------ actors (DESIGN "Actors")

  @Override
  public void registerActor(RegisterActorRequest req, StreamObserver<RegisterActorReply> out) {
    actors.registerActor(req, out);
  }

  @Override
  public void updateActor(UpdateActorRequest req, StreamObserver<UpdateActorReply> out) {
    actors.updateActor(req, out);
  }

  @Override
  public void getActor(GetActorRequest req, StreamObserver<GetActorReply> out) {
    actors.getActor(req, out);
  }

  @Override
  public void watchActor(WatchActorRequest req, StreamObserver<ActorInfo> out) {
    actors.watchActor(req, out);
  }

  @Override
  public void killActor(KillActorRequest req, StreamObserver<KillActorReply> out) {
    actors.killActor(req, out);
  }

  @Override
  public void reportActorWorkerDied(
      ActorWorkerDiedRequest req, StreamObserver<ActorWorkerDiedReply> out) {
    actors.reportActorWorkerDied(req, out);
  }

  // ------------------------------------------------------------------ state API (DESIGN
  // "Observing")

  @Override
  public void reportTaskEvents(TaskEventBatch req, StreamObserver<ReportTaskEventsReply> out) {
    state.reportTaskEvents(req, out);
  }

  @Override
  public void listNodes(StateRequest req, StreamObserver<ListNodesReply> out) {
    state.listNodes(req, out);
  }

  @Override
  public void listWorkers(StateRequest req, StreamObserver<ListWorkersReply> out) {
    state.listWorkers(req, out);
  }

  @Override
  public void listTasks(StateRequest req, StreamObserver<ListTasksReply> out) {
    state.listTasks(req, out);
  }

  @Override
  public void listObjects(StateRequest req, StreamObserver<ListObjectsReply> out) {
    state.listObjects(req, out);
  }

  @Override
  public void listStreams(StateRequest req, StreamObserver<ListStreamsReply> out) {
    state.listStreams(req, out);
  }

  @Override
  public void listActors(StateRequest req, StreamObserver<ListActorsReply> out) {
    state.listActors(req, out);
  }

  @Override
  public void summarizeTasks(SummarizeTasksRequest req, StreamObserver<SummarizeTasksReply> out) {
    state.summarizeTasks(req, out);
  }
}
