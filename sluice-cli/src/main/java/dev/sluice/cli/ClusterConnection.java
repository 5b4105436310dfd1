package dev.sluice.cli;

import dev.sluice.RuntimeStartupException;
import dev.sluice.SluiceConfig;
import dev.sluice.SluiceException;
import dev.sluice.runtime.daemon.ClusterCredentials;
import dev.sluice.runtime.rpc.ConnectFailure;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.RpcSecurity;
import dev.sluice.runtime.rpc.proto.ControlServiceGrpc;
import dev.sluice.runtime.rpc.proto.GetAllNodesRequest;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import dev.sluice.runtime.state.StateClient;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;

/**
 * A command's way to a running cluster's head ({@link ClusterOptions}): finds the head (the one
 * started on this machine unless {@code --address} is given), its token and TLS files, and the
 * {@link RpcFactory} that carries them; asks the control service for the nodes ({@code status},
 * {@code logs}) or runs a {@link StateClient} call ({@code list}, {@code summary}, {@code
 * timeline}). Failures become one-line {@link CliException}s naming the address and what to do.
 *
 * <p>Used on the command's thread only.
 */
final class ClusterConnection {
  private static final Duration STATE_DEADLINE = Duration.ofSeconds(30);
  private static final long NODES_DEADLINE_SECONDS = 10;

  /** What a command does with the cluster's state. */
  interface Action<T> {
    T run(StateClient state) throws IOException;
  }

  private final Path root;
  private final String target;
  private final String token;
  private final RpcSecurity.TlsFiles files;
  private final RpcFactory rpc;

  private ClusterConnection(
      Path root, String target, String token, RpcSecurity.TlsFiles files, RpcFactory rpc) {
    this.root = root;
    this.target = target;
    this.token = token;
    this.files = files;
    this.rpc = rpc;
  }

  /** The head {@code options} name, with its token and TLS files; connects to nothing yet. */
  static ClusterConnection resolve(ClusterOptions options, CommandLine cmd) throws IOException {
    Path root = options.root();
    String target = options.address() != null ? options.address() : localHead(root);
    String token = tokenOrNull(root, target);
    RpcSecurity security = RpcSecurity.token(token != null ? token : RpcSecurity.generateToken());
    RpcSecurity.TlsFiles files = options.tls().files(cmd);
    if (files != null) {
      security = security.withTls(files);
    }
    RpcFactory rpc = new RpcFactory(SluiceConfig.builder().build().maxMessageBytes(), security);
    return new ClusterConnection(root, target, token, files, rpc);
  }

  /** Runs {@code action} against the state API of the head {@code options} name. */
  static <T> T withState(ClusterOptions options, CommandLine cmd, Action<T> action)
      throws IOException {
    return resolve(options, cmd).state(action);
  }

  /** The head's control address. */
  String target() {
    return target;
  }

  /** Channels with the cluster's token and TLS, also to its other nodes. */
  RpcFactory rpc() {
    return rpc;
  }

  /** Every node the control service knows, dead ones too. */
  List<NodeInfo> nodes() {
    ManagedChannel channel = rpc.newChannel(target);
    try {
      return ControlServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(NODES_DEADLINE_SECONDS, TimeUnit.SECONDS)
          .getAllNodes(GetAllNodesRequest.getDefaultInstance())
          .getNodesList();
    } catch (StatusRuntimeException e) {
      throw failure(e);
    } finally {
      RpcFactory.shutdownQuietly(channel);
    }
  }

  /** Runs {@code action} against the head's state API. */
  <T> T state(Action<T> action) throws IOException {
    ManagedChannel channel = rpc.newChannel(target);
    try {
      return action.run(new StateClient(channel, target, STATE_DEADLINE));
    } catch (SluiceException e) {
      if (e.getCause() instanceof StatusRuntimeException s) {
        throw failure(s);
      }
      throw new CliException(e.getMessage(), e);
    } finally {
      RpcFactory.shutdownQuietly(channel);
    }
  }

  /** The control address of the one head recorded on this machine that still runs. */
  private static String localHead(Path root) throws IOException {
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

  private static String tokenOrNull(Path root, String target) {
    try {
      return ClusterCredentials.resolveToken(null, System.getenv(), root, target);
    } catch (RuntimeStartupException e) {
      return null;
    }
  }

  private CliException failure(StatusRuntimeException e) {
    Status.Code code = e.getStatus().getCode();
    if (code == Status.Code.UNAUTHENTICATED) {
      if (token == null) {
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
    ConnectFailure f = ConnectFailure.of(e, files != null);
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
