package dev.sluice.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One child JVM of the bench running {@link PeerMain}, started with the bench's own {@code java},
 * class path and JVM options, and its measurements seen from the bench ({@link #measurements}, each
 * a {@link TimedMeasurement}): each warm-up and round is a command on the child's standard input,
 * its result a line on the child's standard output (see {@link PeerProtocol}). The child's standard
 * error goes to the bench's.
 *
 * <p>Threads: a virtual thread reads the child's standard output into a queue; commands are sent
 * and answered one at a time, from the thread that runs the measurements.
 */
final class PeerProcess implements AutoCloseable {
  /** How long a child may take to start (a Sluice driver starts a cluster and warms it up). */
  static final Duration START_TIMEOUT = Duration.ofMinutes(5);

  /** How long one warm-up or round may take on a loaded machine before the bench gives up. */
  static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(15);

  private static final Duration EXIT_TIMEOUT = Duration.ofMinutes(3);

  /** Stands for the end of the child's standard output in the queue. */
  private static final PeerProtocol.Reply EXITED = new PeerProtocol.Reply("exited", Map.of());

  private final String label;
  private final Process process;
  private final Writer commands;
  private final BlockingQueue<PeerProtocol.Reply> replies = new LinkedBlockingQueue<>();
  private final PeerProtocol.Reply ready;

  private PeerProcess(String label, Process process, Duration startTimeout) throws IOException {
    this.label = label;
    this.process = process;
    this.commands = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    Thread.ofVirtual().name("peer-stdout-" + label).start(this::readReplies);
    this.ready = await("start", startTimeout);
    if (!ready.type().equals("ready")) {
      throw new IllegalStateException(label + " did not start: " + ready.fields());
    }
  }

  /**
   * Starts {@code PeerMain args...} in a new JVM and waits until it is ready; {@code label} names
   * it in progress lines and errors.
   */
  static PeerProcess start(String label, PrintStream out, List<String> args) throws IOException {
    return start(label, out, List.of(), args);
  }

  /** The same, with {@code jvmOptions} after the bench's own (so they win where both set one). */
  static PeerProcess start(
      String label, PrintStream out, List<String> jvmOptions, List<String> args)
      throws IOException {
    List<String> command = command(jvmOptions, args);
    out.printf(
        "starting %s: %sPeerMain %s%n",
        label,
        jvmOptions.isEmpty() ? "" : String.join(" ", jvmOptions) + " ",
        String.join(" ", args));
    Process p =
        new ProcessBuilder(command)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .redirectInput(ProcessBuilder.Redirect.PIPE)
            .redirectOutput(ProcessBuilder.Redirect.PIPE)
            .start();
    try {
      return new PeerProcess(label, p, START_TIMEOUT);
    } catch (IOException | RuntimeException e) {
      kill(p);
      throw e;
    }
  }

  /**
   * {@code java [the bench's JVM options] [jvmOptions] -cp [its class path]
   * dev.sluice.bench.PeerMain args}.
   */
  static List<String> command(List<String> jvmOptions, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    boolean nativeAccess = false;
    for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (option.startsWith("-agentlib:jdwp") || option.startsWith("-javaagent")) {
        continue; // a debugger or agent of the bench is not the peer's
      }
      nativeAccess |= option.startsWith("--enable-native-access");
      command.add(option);
    }
    if (!nativeAccess) {
      // What the bench jar's manifest gives `java -jar`: Netty's native transport, no warning.
      command.add("--enable-native-access=ALL-UNNAMED");
    }
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(PeerMain.class.getName());
    command.addAll(args);
    return command;
  }

  /** The child process, for tests that check it is gone after {@link #close}. */
  ProcessHandle handle() {
    return process.toHandle();
  }

  /** The port a server child announced. */
  int port() {
    return ready.port();
  }

  /**
   * The child's measurements, as {@link Measurement}s of this JVM whose warm-ups and rounds run in
   * the child; {@code suffix} is appended to their names.
   */
  List<TimedMeasurement> measurements(String suffix) {
    int count = Integer.parseInt(ready.required("count"));
    List<TimedMeasurement> result = new ArrayList<>(count);
    for (int k = 0; k < count; k++) {
      result.add(
          new Remote(
              k,
              ready.required("name" + k) + suffix,
              Measurement.Unit.valueOf(ready.required("unit" + k)),
              ready.required("work" + k)));
    }
    return result;
  }

  /** Sends {@code command} and returns the child's answer; throws on an error answer. */
  PeerProtocol.Reply call(String command) throws IOException, InterruptedException {
    if (!process.isAlive()) {
      throw new IllegalStateException(label + " has exited with code " + process.exitValue());
    }
    commands.write(command + "\n");
    commands.flush();
    PeerProtocol.Reply reply = await(command, COMMAND_TIMEOUT);
    if (reply.type().equals("error")) {
      throw new IllegalStateException(
          label + ": '" + command + "' failed: " + reply.fields().get("message"));
    }
    return reply;
  }

  private PeerProtocol.Reply await(String what, Duration timeout) {
    try {
      PeerProtocol.Reply reply = replies.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (reply == null) {
        throw new IllegalStateException(label + ": no answer to '" + what + "' in " + timeout);
      }
      if (reply == EXITED) {
        throw new IllegalStateException(
            label + " ended its output before answering '" + what + "' (see its stderr above)");
      }
      return reply;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(label + ": interrupted waiting for '" + what + "'", e);
    }
  }

  private void readReplies() {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        Optional<PeerProtocol.Reply> reply;
        try {
          reply = PeerProtocol.parse(line);
        } catch (IllegalArgumentException e) {
          reply = Optional.of(PeerProtocol.parse(PeerProtocol.error(e.getMessage())).orElseThrow());
        }
        if (reply.isPresent()) {
          replies.add(reply.get());
        } else {
          System.err.println("[" + label + "] " + line);
        }
      }
    } catch (IOException e) {
      // the child is gone: EXITED below tells the waiting caller
    } finally {
      replies.add(EXITED);
    }
  }

  /** Tells the child to quit and waits for it; kills it (and what it started) if it does not. */
  @Override
  public void close() {
    try {
      if (process.isAlive()) {
        commands.write("quit\n");
        commands.close();
      }
    } catch (IOException e) {
      // already gone
    }
    try {
      if (!process.waitFor(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        System.err.println(label + " did not exit in " + EXIT_TIMEOUT + "; killing it");
        kill(process);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      kill(process);
    }
  }

  private static void kill(Process p) {
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
    try {
      p.waitFor(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** One of the child's measurements; closing it does nothing (closing the process does). */
  private final class Remote implements TimedMeasurement {
    private final int index;
    private final String name;
    private final Unit unit;
    private final String work;

    Remote(int index, String name, Unit unit, String work) {
      this.index = index;
      this.name = name;
      this.unit = unit;
      this.work = work;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public Unit unit() {
      return unit;
    }

    @Override
    public void warmUp() throws Exception {
      call("warmup " + index);
    }

    @Override
    public double runRound() throws Exception {
      return call("round " + index).value();
    }

    /**
     * The child's warm-up report; a child started without a {@link RoundPolicy} warms up with its
     * fixed minimum only, which is reported as not steady, with no windows.
     */
    @Override
    public WarmUpReport warmUpUntilSteady() throws Exception {
      long t0 = System.nanoTime();
      PeerProtocol.Reply reply = call("warmup " + index);
      return reply
          .warmUp()
          .orElseGet(() -> new WarmUpReport((System.nanoTime() - t0) / 1e9, List.of(), false));
    }

    @Override
    public RoundPart runPart() throws Exception {
      return call("round " + index).part();
    }

    /** The child's work per batch: a round runs batches for its parts' time. */
    @Override
    public String workPerRound() {
      return "batches of " + work + " [" + label + "]";
    }
  }
}
