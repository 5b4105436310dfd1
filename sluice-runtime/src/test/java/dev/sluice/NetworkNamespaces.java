package dev.sluice;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Network namespaces for tests, made with {@code ip}: a bridge in the root namespace with the first
 * address of a random {@code 10.x.y.0/24} ({@code x} in 200..250), and namespaces each joined to
 * the bridge by a veth pair, with the next addresses of that subnet and their loopback up.
 * Processes started with a namespace's {@link Namespace#execPrefix()} live in it and reach the root
 * namespace (and the other namespaces) through the bridge.
 *
 * <p>{@link #createOrSkip} skips the calling test (a JUnit assumption) where namespaces cannot be
 * created (not root, no iproute2); any later failure is a test failure, after what was made is
 * removed again. {@link #close()} deletes the namespaces (their veth ends go with them) and the
 * bridge; a shutdown hook does the same if the JVM exits first (not if it is killed).
 */
public final class NetworkNamespaces implements AutoCloseable {
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(20);
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(15);
  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(3);

  /**
   * One namespace.
   *
   * @param name the namespace's name ({@code ip netns})
   * @param address its IPv4 address on the bridge
   */
  public record Namespace(String name, String address) {
    /** The command prefix that runs a command inside this namespace (execs it in place). */
    public List<String> execPrefix() {
      return List.of("ip", "netns", "exec", name);
    }
  }

  private final String tag;
  private final String subnetPrefix;
  private final String bridge;
  private final List<Namespace> namespaces = new ArrayList<>();
  private final Thread cleanupAtExit = new Thread(this::deleteAll, "network-namespace-cleanup");
  private boolean bridgeCreated;

  private NetworkNamespaces(String tag, String subnetPrefix) {
    this.tag = tag;
    this.subnetPrefix = subnetPrefix;
    this.bridge = "slbr" + tag;
  }

  /**
   * Creates the bridge and {@code count} namespaces and checks that each reaches the bridge address
   * over TCP; skips the test if this machine cannot create namespaces.
   */
  public static NetworkNamespaces createOrSkip(int count) {
    if (count < 1 || count > 200) {
      throw new IllegalArgumentException("1..200 namespaces, got " + count);
    }
    NetworkNamespaces n = new NetworkNamespaces(randomTag(), freeSubnetPrefix());
    Runtime.getRuntime().addShutdownHook(n.cleanupAtExit);
    try {
      n.create(count);
      n.checkConnectivity();
    } catch (RuntimeException | Error e) {
      n.close();
      throw e;
    }
    return n;
  }

  /** The bridge's address: the root namespace's address on the namespaces' network. */
  public String bridgeAddress() {
    return subnetPrefix + ".1";
  }

  /** The namespaces, in creation order. */
  public List<Namespace> namespaces() {
    return List.copyOf(namespaces);
  }

  /** Namespace {@code i} (0-based). */
  public Namespace namespace(int i) {
    return namespaces.get(i);
  }

  private synchronized void create(int count) {
    String first = "sl-" + tag + "-1";
    CommandResult probe = run("ip", "netns", "add", first);
    assumeTrue(
        probe.ok(),
        () ->
            "network namespaces cannot be created here (needs root and"
                + " iproute2): "
                + probe.describe());
    namespaces.add(new Namespace(first, subnetPrefix + ".2"));
    runOrFail("ip", "link", "add", bridge, "type", "bridge");
    bridgeCreated = true;
    runOrFail("ip", "addr", "add", bridgeAddress() + "/24", "dev", bridge);
    runOrFail("ip", "link", "set", bridge, "up");
    for (int i = 2; i <= count; i++) {
      String name = "sl-" + tag + "-" + i;
      runOrFail("ip", "netns", "add", name);
      namespaces.add(new Namespace(name, subnetPrefix + "." + (i + 1)));
    }
    for (int i = 0; i < namespaces.size(); i++) {
      connect(namespaces.get(i), i + 1);
    }
  }

  /** A veth pair: one end on the bridge, the other (with the address) in the namespace. */
  private void connect(Namespace ns, int number) {
    String hostEnd = "slv" + tag + "h" + number;
    String nsEnd = "slv" + tag + "n" + number;
    runOrFail("ip", "link", "add", hostEnd, "type", "veth", "peer", "name", nsEnd);
    runOrFail("ip", "link", "set", nsEnd, "netns", ns.name());
    runOrFail("ip", "link", "set", hostEnd, "master", bridge);
    runOrFail("ip", "link", "set", hostEnd, "up");
    runOrFail("ip", "-n", ns.name(), "addr", "add", ns.address() + "/24", "dev", nsEnd);
    runOrFail("ip", "-n", ns.name(), "link", "set", nsEnd, "up");
    runOrFail("ip", "-n", ns.name(), "link", "set", "lo", "up");
  }

  /** Each namespace opens a TCP connection to a listener on the bridge address. */
  private void checkConnectivity() {
    try (ServerSocket listener = new ServerSocket()) {
      listener.bind(new InetSocketAddress(InetAddress.getByName(bridgeAddress()), 0));
      for (Namespace ns : namespaces) {
        List<String> cmd = new ArrayList<>(ns.execPrefix());
        cmd.addAll(
            List.of(
                "bash",
                "-c",
                "exec 3<>/dev/tcp/" + bridgeAddress() + "/" + listener.getLocalPort()));
        await("namespace " + ns.name() + " reaches " + bridgeAddress() + " over TCP")
            .atMost(CONNECT_TIMEOUT)
            .pollInterval(Duration.ofMillis(200))
            .until(() -> run(PROBE_TIMEOUT, cmd.toArray(String[]::new)).ok());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen on the bridge address " + bridgeAddress(), e);
    }
  }

  /** Deletes the namespaces (and with them their veth ends) and the bridge; never throws. */
  @Override
  public void close() {
    deleteAll();
    try {
      Runtime.getRuntime().removeShutdownHook(cleanupAtExit);
    } catch (IllegalStateException e) {
      // the JVM is exiting: the hook runs (or ran) and finds nothing left to delete
    }
  }

  /** What {@link #close()} deletes; also run when the JVM exits without a close. */
  private synchronized void deleteAll() {
    List<String> failures = new ArrayList<>();
    for (Namespace ns : namespaces) {
      CommandResult r = run("ip", "netns", "delete", ns.name());
      if (!r.ok()) {
        failures.add(r.describe());
      }
    }
    namespaces.clear();
    if (bridgeCreated) {
      CommandResult r = run("ip", "link", "delete", bridge);
      if (!r.ok()) {
        failures.add(r.describe());
      }
      bridgeCreated = false;
    }
    if (!failures.isEmpty()) {
      System.err.println("network namespace cleanup incomplete: " + failures);
    }
  }

  @Override
  public String toString() {
    return "bridge " + bridge + " " + bridgeAddress() + "/24, namespaces " + namespaces;
  }

  private static String randomTag() {
    byte[] b = new byte[3];
    ThreadLocalRandom.current().nextBytes(b);
    return HexFormat.of().formatHex(b).substring(0, 5);
  }

  /** A random {@code 10.x.y} with {@code x} in 200..250 that no interface here uses yet. */
  private static String freeSubnetPrefix() {
    ThreadLocalRandom rnd = ThreadLocalRandom.current();
    for (int attempt = 0; attempt < 20; attempt++) {
      String prefix = "10." + rnd.nextInt(200, 251) + "." + rnd.nextInt(0, 256);
      CommandResult used = run("ip", "-o", "-4", "addr", "show", "to", prefix + ".0/24");
      if (!used.ok() || used.output().isBlank()) {
        return prefix;
      }
    }
    throw new IllegalStateException("no free 10.200-250.x.0/24 subnet found");
  }

  private static void runOrFail(String... cmd) {
    CommandResult r = run(cmd);
    if (!r.ok()) {
      throw new IllegalStateException("network namespace setup failed: " + r.describe());
    }
  }

  private static CommandResult run(String... cmd) {
    return run(COMMAND_TIMEOUT, cmd);
  }

  /**
   * Runs a command (whose output is small) to its end, killing it after {@code timeout}; a command
   * that cannot start or times out yields exit code -1.
   */
  private static CommandResult run(Duration timeout, String... cmd) {
    String line = String.join(" ", cmd);
    try {
      Process p =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        return new CommandResult(line, -1, "timed out after " + timeout.toMillis() + " ms");
      }
      byte[] out = p.getInputStream().readAllBytes();
      return new CommandResult(line, p.exitValue(), new String(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      return new CommandResult(line, -1, e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new CommandResult(line, -1, "interrupted");
    }
  }

  private record CommandResult(String command, int exitCode, String output) {
    boolean ok() {
      return exitCode == 0;
    }

    String describe() {
      return "'" + command + "' exited with " + exitCode + ": " + output.strip();
    }
  }
}
