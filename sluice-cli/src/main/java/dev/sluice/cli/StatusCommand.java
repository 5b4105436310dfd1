package dev.sluice.cli;

import dev.sluice.RuntimeStartupException;
import dev.sluice.SluiceConfig;
import dev.sluice.runtime.daemon.ClusterCredentials;
import dev.sluice.runtime.rpc.ConnectFailure;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.RpcSecurity;
import dev.sluice.runtime.rpc.proto.ControlServiceGrpc;
import dev.sluice.runtime.rpc.proto.GetAllNodesRequest;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice status}: asks a cluster's control service for its nodes and prints one line per
 * node (see {@link NodeTable}). Without {@code --address} it asks the head started on this machine.
 */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = "Shows the nodes of a Sluice cluster.")
final class StatusCommand implements Callable<Integer> {
  private static final long DEADLINE_SECONDS = 10;

  @Spec private CommandSpec spec;

  @Option(
      names = "--address",
      paramLabel = "HOST:PORT",
      converter = HostPortConverter.class,
      description = "The head's control service (default: the head started on this machine).")
  private String address;

  @Mixin private SessionRootOption sessionRoot;

  @Mixin private TlsOptions tls;

  @Override
  public Integer call() throws IOException {
    Path root = sessionRoot.root();
    String target = address != null ? address : localHead(root);
    String token = tokenOrNull(root, target);
    RpcSecurity security = RpcSecurity.token(token != null ? token : RpcSecurity.generateToken());
    RpcSecurity.TlsFiles files = tls.files(spec.commandLine());
    if (files != null) {
      security = security.withTls(files);
    }
    List<NodeInfo> nodes;
    RpcFactory rpc = new RpcFactory(SluiceConfig.builder().build().maxMessageBytes(), security);
    ManagedChannel channel = rpc.newChannel(target);
    try {
      nodes =
          ControlServiceGrpc.newBlockingStub(channel)
              .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
              .getAllNodes(GetAllNodesRequest.getDefaultInstance())
              .getNodesList();
    } catch (StatusRuntimeException e) {
      throw failure(e, root, target, token != null, files != null);
    } finally {
      RpcFactory.shutdownQuietly(channel);
    }
    PrintWriter out = spec.commandLine().getOut();
    NodeTable.print(out, target, nodes);
    out.flush();
    return 0;
  }

  /** The control address of the one head recorded on this machine that still runs. */
  static String localHead(Path root) throws IOException {
    List<String> heads =
        DaemonRecord.readAll(root, new ArrayList<>()).stream()
            .filter(DaemonRecord::head)
            .filter(r -> r.process().isPresent())
            .map(DaemonRecord::control)
            .distinct()
            .toList();
    if (heads.isEmpty()) {
      throw new CliException(
          "no head started with 'sluice start --head' runs on this machine"
              + " (none recorded under "
              + DaemonRecord.directory(root)
              + "); pass --address"
              + " HOST:PORT of the cluster's head");
    }
    if (heads.size() > 1) {
      throw new CliException(
          "several heads run on this machine ("
              + String.join(", ", heads)
              + "); pass --address HOST:PORT to pick one");
    }
    return heads.getFirst();
  }

  static String tokenOrNull(Path root, String target) {
    try {
      return ClusterCredentials.resolveToken(null, System.getenv(), root, target);
    } catch (RuntimeStartupException e) {
      return null;
    }
  }

  static CliException failure(
      StatusRuntimeException e, Path root, String target, boolean haveToken, boolean tls) {
    Status.Code code = e.getStatus().getCode();
    if (code == Status.Code.UNAUTHENTICATED) {
      if (!haveToken) {
        try {
          ClusterCredentials.resolveToken(null, System.getenv(), root, target);
        } catch (RuntimeStartupException noToken) {
          return new CliException(noToken.getMessage());
        }
      }
      return new CliException(
          "the cluster at "
              + target
              + " refused the token (from "
              + RpcSecurity.TOKEN_ENV_VAR
              + " or "
              + ClusterCredentials.tokenFile(root, target)
              + "): "
              + e.getStatus().getDescription());
    }
    ConnectFailure f = ConnectFailure.of(e, tls);
    String tlsProblem =
        switch (f.kind()) {
          case PEER_NOT_TLS -> "this command uses TLS (--tls) but the cluster does not";
          case PEER_REQUIRES_TLS ->
              "the cluster closed the connection without answering: it most"
                  + " likely requires TLS; pass --tls --tls-cert, --tls-key and --tls-ca";
          case PEER_CERTIFICATE_REJECTED ->
              "the cluster's certificate was not accepted: --tls-ca"
                  + " must be the CA that signed it, and it must name "
                  + target
                  + "'s host";
          case OWN_CERTIFICATE_REJECTED ->
              "the cluster did not accept the --tls-cert certificate:"
                  + " it must be signed by the cluster's CA and allow clientAuth";
          default -> null;
        };
    if (tlsProblem != null) {
      return new CliException(
          "TLS handshake with the cluster at "
              + target
              + " failed: "
              + tlsProblem
              + " ("
              + f.detail()
              + ")",
          e);
    }
    String why =
        e.getStatus().getDescription() != null ? e.getStatus().getDescription() : code.toString();
    if (e.getCause() != null && e.getCause().getMessage() != null) {
      why += ": " + e.getCause().getMessage();
    }
    return new CliException(
        "no Sluice cluster answers at "
            + target
            + " ("
            + code
            + ", "
            + why
            + "); is its head running? ('sluice start --head' starts one)",
        e);
  }
}
