package dev.sluice.runtime.driver;

import com.google.protobuf.ByteString;
import dev.sluice.JobId;
import dev.sluice.RuntimeStartupException;
import dev.sluice.runtime.code.CodePackager;
import dev.sluice.runtime.code.PackageClient;
import dev.sluice.runtime.code.PackageUploader;
import dev.sluice.runtime.rpc.ConnectFailure;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.proto.AddJobRequest;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ControlServiceGrpc;
import dev.sluice.runtime.rpc.proto.FinishJobRequest;
import dev.sluice.runtime.rpc.proto.GetAllNodesRequest;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import dev.sluice.runtime.rpc.proto.NodeManagerServiceGrpc;
import dev.sluice.runtime.rpc.proto.RegisterDriverRequest;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A driver's calls to the cluster it starts or joins, made while it starts and stops: the control
 * service's nodes, adding, uploading the code of and finishing the driver's job, and attaching the
 * driver to its node manager. Each call opens a channel of its own, waits up to 10 s for the reply
 * and closes the channel; a failed first call to the control service becomes a {@link
 * RuntimeStartupException} that says what to do ({@link ConnectErrors}).
 *
 * <p>Threads: thread-safe and stateless; every call blocks its caller (the starting thread, or the
 * thread that shuts the driver down).
 */
final class ClusterClient {
  private static final Logger log = LoggerFactory.getLogger(ClusterClient.class);
  private static final long DEADLINE_SECONDS = 10;

  private final RpcFactory rpc;
  private final String controlTarget;

  ClusterClient(RpcFactory rpc, String controlTarget) {
    this.rpc = rpc;
    this.controlTarget = controlTarget;
  }

  /**
   * Every node the control service knows: the driver's first call to the cluster, made with or
   * without TLS ({@code tls}).
   *
   * @throws RuntimeStartupException if it fails, saying why and what to do
   */
  List<NodeInfo> nodes(boolean tls) {
    ManagedChannel ch = rpc.newChannel(controlTarget);
    try {
      return ControlServiceGrpc.newBlockingStub(ch)
          .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
          .getAllNodes(GetAllNodesRequest.getDefaultInstance())
          .getNodesList();
    } catch (StatusRuntimeException e) {
      throw ConnectErrors.of(ConnectFailure.of(e, tls), controlTarget, e);
    } catch (RuntimeException e) {
      throw new RuntimeStartupException(
          "no Sluice cluster answers at "
              + controlTarget
              + " ("
              + e.getMessage()
              + "); start one with 'sluice start --head' or check the address",
          e);
    } finally {
      RpcFactory.shutdownQuietly(ch);
    }
  }

  /**
   * Registers a job whose code is {@code codePackages} (uploaded before; empty: the nodes' own
   * class path) and returns its id.
   */
  JobId addJob(List<String> codePackages) {
    ManagedChannel ch = rpc.newChannel(controlTarget);
    try {
      byte[] id =
          ControlServiceGrpc.newBlockingStub(ch)
              .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
              .addJob(AddJobRequest.newBuilder().addAllCodePackages(codePackages).build())
              .getJobId()
              .toByteArray();
      return JobId.fromBytes(id);
    } finally {
      RpcFactory.shutdownQuietly(ch);
    }
  }

  /**
   * Uploads the {@code packages} the head lacks, in pieces that fit {@code maxMessageBytes};
   * returns how many were sent.
   */
  int uploadMissing(List<CodePackager.CodePackage> packages, int maxMessageBytes)
      throws IOException {
    ManagedChannel ch = rpc.newChannel(controlTarget);
    try {
      return new PackageUploader(new PackageClient(ch), maxMessageBytes)
          .uploadMissing(packages, controlTarget, log::info);
    } finally {
      RpcFactory.shutdownQuietly(ch);
    }
  }

  /**
   * Attaches driver {@code driver} of job {@code job}, process {@code pid}, to its node manager.
   */
  void registerDriver(String nodeManagerTarget, Address driver, JobId job, long pid) {
    ManagedChannel nm = rpc.newChannel(nodeManagerTarget);
    try {
      NodeManagerServiceGrpc.newBlockingStub(nm)
          .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
          .registerDriver(
              RegisterDriverRequest.newBuilder()
                  .setDriver(driver)
                  .setJobId(ByteString.copyFrom(job.toBytes()))
                  .setPid(pid)
                  .build());
    } finally {
      RpcFactory.shutdownQuietly(nm);
    }
  }

  /** Finishes job {@code job} (every node frees its objects), saying {@code reason}. */
  void finishJob(JobId job, String reason) {
    ManagedChannel ch = rpc.newChannel(controlTarget);
    try {
      ControlServiceGrpc.newBlockingStub(ch)
          .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
          .finishJob(
              FinishJobRequest.newBuilder()
                  .setJobId(ByteString.copyFrom(job.toBytes()))
                  .setReason(reason)
                  .build());
    } finally {
      RpcFactory.shutdownQuietly(ch);
    }
  }
}
