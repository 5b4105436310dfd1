package dev.sluice.cli;

import dev.sluice.RuntimeStartupException;
import dev.sluice.runtime.daemon.ClusterCredentials;
import dev.sluice.runtime.daemon.DaemonConfig;
import dev.sluice.runtime.daemon.DashboardSettings;
import dev.sluice.runtime.daemon.NodeDaemon;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.RpcSecurity;
import dev.sluice.runtime.rpc.TlsFileCheck;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code sluice start}: starts a node daemon in the background, a head ({@code --head}) or a node
 * that joins one ({@code --address}), and returns once it is up ({@code --block} keeps it in the
 * foreground). Each daemon gets a session directory with its logs and a record for {@code sluice
 * stop}.
 */
@Command(
    name = "start",
    mixinStandardHelpOptions = true,
    description = "Starts a node of a Sluice cluster on this machine.")
final class StartCommand implements Callable<Integer> {
  @Spec private CommandSpec spec;

  @ArgGroup(exclusive = true, multiplicity = "1")
  private Role role;

  /** Head or joining node: exactly one. */
  static final class Role {
    @Option(
        names = "--head",
        required = true,
        description = "Start the head: the control service and a node.")
    boolean head;

    @Option(
        names = "--address",
        required = true,
        paramLabel = "HOST:PORT",
        converter = HostPortConverter.class,
        description = "Join the cluster whose head's control service is at HOST:PORT.")
    String address;
  }

  @Option(
      names = "--port",
      paramLabel = "PORT",
      description =
          "The head's control service port; 0 picks a free one (default: " + "${DEFAULT-VALUE}).")
  private int port = DaemonConfig.DEFAULT_PORT;

  @Option(
      names = "--node-manager-port",
      paramLabel = "PORT",
      description = "The node manager's port (default: any free port).")
  private int nodeManagerPort;

  @Option(
      names = "--bind-host",
      paramLabel = "HOST",
      description =
          "Address the node binds to and advertises; give one other machines reach "
              + "(default: ${DEFAULT-VALUE}, this machine only).")
  private String bindHost = RpcFactory.LOOPBACK;

  @Option(
      names = "--num-cpus",
      paramLabel = "N",
      description = "CPUs the node offers (default: the machine's).")
  private Integer numCpus;

  @Option(
      names = "--num-workers",
      paramLabel = "N",
      description = "Worker JVMs started up front (default: the CPUs, from 1 to 4).")
  private Integer numWorkers;

  @Option(
      names = "--resources",
      paramLabel = "NAME=AMOUNT[,...]",
      converter = ResourcesConverter.class,
      description = "Custom resources the node offers, e.g. GPU=2,memory_gb=64.")
  private String resources;

  @Option(
      names = "--object-store-bytes",
      paramLabel = "BYTES",
      description = "Capacity of the node's object store (default: 30%% of RAM).")
  private long objectStoreBytes;

  @Option(
      names = "--metrics-port",
      paramLabel = "PORT",
      description =
          "Port serving the node's metrics in Prometheus text format at /metrics, read-only and"
              + " without a token, on the bind host (default: 0, any free port, printed; -1: none).")
  private int metricsPort;

  @Option(
      names = "--dashboard-port",
      paramLabel = "PORT",
      description =
          "The head's web dashboard port; 0 picks a free one (default: "
              + DashboardSettings.DEFAULT_PORT
              + ", and the head starts without a dashboard if that port is taken).")
  private Integer dashboardPort;

  @Option(
      names = "--dashboard-host",
      paramLabel = "HOST",
      description =
          "Address the dashboard listens on (default: ${DEFAULT-VALUE}, this machine only; it"
              + " speaks plain HTTP, so open it to others only behind a TLS proxy).")
  private String dashboardHost = DashboardSettings.DEFAULT_HOST;

  @Option(names = "--no-dashboard", description = "Start the head without its web dashboard.")
  private boolean noDashboard;

  @Option(
      names = "--block",
      description = "Run the node in the foreground until it exits or this command is stopped.")
  private boolean block;

  @Mixin private SessionRootOption sessionRoot;

  @Mixin private TlsOptions tls;

  @Override
  public Integer call() throws IOException, InterruptedException {
    Path root = sessionRoot.root();
    Session session = Session.plan(root);
    DaemonConfig planned = config(root, session.dir());
    if (!planned.head()) {
      checkToken(root, planned.address());
    }
    session.create();
    DaemonConfig config =
        session.dir().equals(planned.sessionDir()) ? planned : config(root, session.dir());
    PrintWriter out = spec.commandLine().getOut();
    out.println(
        "starting "
            + (config.head() ? "the head" : "a node joining " + config.address())
            + "; session "
            + session.dir());
    out.flush();
    DaemonLauncher.Started started =
        new DaemonLauncher(spec.commandLine().getErr()).launch(config, !block);
    NodeDaemon.ReadyFile ready = started.ready();
    DaemonRecord record =
        new DaemonRecord(
            ready.pid(),
            ready.sessionDir(),
            ready.controlTarget(),
            ready.nodeManagerTarget(),
            ready.nodeId().hex(),
            ready.head());
    record.write(root);
    printStarted(out, record, started.logFile(), root, ready);
    return block ? runInForeground(started, record, root) : 0;
  }

  /** The daemon's settings; invalid options are a usage error. */
  private DaemonConfig config(Path root, Path sessionDir) {
    if (port < 0 || port > 65535 || nodeManagerPort < 0 || nodeManagerPort > 65535) {
      throw usage("ports must be 0 to 65535");
    }
    if (metricsPort < -1 || metricsPort > 65535) {
      throw usage("--metrics-port must be 0 to 65535, or -1 for none; got " + metricsPort);
    }
    if (numWorkers != null && numWorkers < 0) {
      throw usage("--num-workers must be >= 0, got " + numWorkers);
    }
    if (objectStoreBytes < 0) {
      throw usage("--object-store-bytes must be >= 0, got " + objectStoreBytes);
    }
    List<String> args = new ArrayList<>();
    if (role.head) {
      args.add("--head");
    } else {
      args.addAll(List.of("--address", role.address));
    }
    args.addAll(
        List.of(
            "--bind-host",
            bindHost,
            "--port",
            Integer.toString(port),
            "--node-manager-port",
            Integer.toString(nodeManagerPort),
            "--object-store-bytes",
            Long.toString(objectStoreBytes),
            "--session-dir",
            sessionDir.toString(),
            "--ready-file",
            sessionDir.resolve("ready.properties").toString(),
            "--session-root",
            root.toString(),
            "--metrics-port",
            Integer.toString(metricsPort)));
    if (numCpus != null) {
      args.addAll(List.of("--num-cpus", numCpus.toString()));
    }
    if (numWorkers != null) {
      args.addAll(List.of("--num-workers", numWorkers.toString()));
    }
    if (resources != null) {
      args.addAll(List.of("--resources", resources));
    }
    args.addAll(dashboardArgs());
    RpcSecurity.TlsFiles files = tls.files(spec.commandLine());
    if (files != null) {
      try {
        TlsFileCheck.check(files);
      } catch (IllegalArgumentException e) {
        throw new CliException("cannot start the node with these TLS files: " + e.getMessage());
      }
      args.addAll(
          List.of(
              "--tls-cert",
              files.certChain().toString(),
              "--tls-key",
              files.privateKey().toString(),
              "--tls-ca",
              files.trustedCa().toString()));
    }
    try {
      return DaemonConfig.parse(args.toArray(String[]::new));
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
  }

  private List<String> dashboardArgs() {
    if (!role.head) {
      if (dashboardPort != null || noDashboard) {
        throw usage(
            "only the head serves a dashboard: --dashboard-port and --no-dashboard go with --head");
      }
      return List.of();
    }
    if (noDashboard) {
      if (dashboardPort != null) {
        throw usage("give --dashboard-port or --no-dashboard, not both");
      }
      return List.of();
    }
    List<String> a = new ArrayList<>();
    a.addAll(
        List.of(
            "--dashboard-port",
            Integer.toString(
                dashboardPort != null ? dashboardPort : DashboardSettings.DEFAULT_PORT),
            "--dashboard-host",
            dashboardHost));
    if (dashboardPort == null) {
      a.add("--dashboard-optional");
    }
    return a;
  }

  private static void checkToken(Path root, String address) {
    try {
      ClusterCredentials.resolveToken(null, System.getenv(), root, address);
    } catch (RuntimeStartupException e) {
      throw new CliException(e.getMessage());
    }
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }

  private void printStarted(
      PrintWriter out, DaemonRecord r, Path logFile, Path root, NodeDaemon.ReadyFile ready) {
    out.println();
    out.println(
        "Started " + (r.head() ? "head " : "") + "node " + r.nodeId() + " (pid " + r.pid() + ")");
    out.println("  control service: " + r.control());
    out.println("  node manager:    " + r.nodeManager());
    out.println("  session:         " + r.sessionDir());
    out.println("  log:             " + logFile);
    String metrics = ready.metricsAddress();
    if (!metrics.isEmpty()) {
      out.println("  metrics:         http://" + metrics + "/metrics");
    }
    if (r.head()) {
      StartHints hints = hints(r.control(), root);
      if (ready.dashboardUrl() != null) {
        out.println(
            "  dashboard:       "
                + ready.dashboardUrl()
                + (hints.token() != null
                    ? "?token=" + URLEncoder.encode(hints.token(), StandardCharsets.UTF_8)
                    : ""));
      } else if (ready.dashboardProblem() != null) {
        out.println(
            "  dashboard:       none ("
                + ready.dashboardProblem()
                + "; pick another with --dashboard-port)");
      }
      for (String line : hints.lines()) {
        out.println(line);
      }
    } else {
      String rootFlag = StartHints.rootFlag(root, sessionRoot.isDefault());
      out.println();
      out.println(
          "Show the cluster:  bin/sluice status --address "
              + r.control()
              + rootFlag
              + StartHints.tlsFlags(tls.files(spec.commandLine())));
      out.println("Stop the nodes started on this machine:  bin/sluice stop" + rootFlag);
    }
    out.flush();
  }

  private StartHints hints(String control, Path root) {
    Path tokenFile = ClusterCredentials.tokenFile(root, control);
    String token;
    try {
      token = Files.readString(tokenFile, StandardCharsets.US_ASCII).trim();
    } catch (IOException e) {
      token = null;
    }
    return new StartHints(
        control, token, tokenFile, root, sessionRoot.isDefault(), tls.files(spec.commandLine()));
  }

  private int runInForeground(DaemonLauncher.Started started, DaemonRecord record, Path root)
      throws IOException, InterruptedException {
    Process p = started.process();
    Thread stop =
        new Thread(
            () -> {
              p.destroy();
              try {
                if (!p.waitFor(StopCommand.GRACE.toSeconds(), TimeUnit.SECONDS)) {
                  p.destroyForcibly();
                }
                record.delete(root);
              } catch (InterruptedException | IOException e) {
                p.destroyForcibly();
              }
            },
            "sluice-stop-foreground-node");
    Runtime.getRuntime().addShutdownHook(stop);
    PrintWriter out = spec.commandLine().getOut();
    out.println("Running in the foreground: Ctrl-C stops the node.");
    out.flush();
    int code = p.waitFor();
    try {
      Runtime.getRuntime().removeShutdownHook(stop);
    } catch (IllegalStateException e) {
      // this JVM is stopping (Ctrl-C): the hook stops the node and removes the record
      return 0;
    }
    record.delete(root);
    throw new CliException(
        "the node exited with code "
            + code
            + "; the end of its log "
            + started.logFile()
            + ":\n"
            + DaemonLauncher.tail(started.logFile()));
  }
}
