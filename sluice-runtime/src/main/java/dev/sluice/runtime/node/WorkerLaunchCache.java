package dev.sluice.runtime.node;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.sluice.runtime.code.CodePackager;
import dev.sluice.runtime.logging.ProcessLogConfigurator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's JDK AOT caches of worker JVMs (JEP 483/514/515), one per launch line: the first worker
 * of a line without a cache records its class loading and profiles ({@code -XX:AOTMode=record}),
 * and when it exits after having registered, its configuration is assembled into a cache ({@code
 * -XX:AOTMode=create}, a short child JVM in the background) that later workers of the line start
 * with ({@code -XX:AOTCache}), which roughly halves the time from launch to first task.
 *
 * <p>Files live in {@code <session root>/cache/worker-aot} (owner-only), named by a hash of the
 * JDK, the JVM options and the class path (each jar's path, size and modification time), so a
 * changed jar or JDK gives a new line rather than a stale cache. Everything is written under a
 * unique temporary name and renamed into place atomically, so concurrent node managers on one
 * machine never see each other's partial files. A cache the JVM cannot use (corrupt, truncated,
 * from another JDK) is skipped by the JVM itself ({@code AOTMode=auto}): the worker starts as if
 * there were none. A class path with a directory gets no cache (the JVM only archives classes from
 * jars), nor do workers whose options already choose class data sharing.
 *
 * <p>Thread-safe: the training and assembly state is guarded by this object's monitor; process
 * exits are handled on whatever thread reports them.
 */
final class WorkerLaunchCache implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WorkerLaunchCache.class);

  /** Worker options that already decide class data sharing: the cache steps aside for them. */
  private static final List<String> SHARING_OPTIONS =
      List.of(
          "-XX:AOT",
          "-XX:SharedArchiveFile",
          "-XX:ArchiveClassesAtExit",
          "-XX:+AutoCreateSharedArchive",
          "-Xshare");

  /** Longest an assembly may run before it is abandoned. */
  private static final long CREATE_TIMEOUT_SECONDS = 120;

  /** Longest {@link #close} waits for a running assembly. */
  static final long CLOSE_WAIT_SECONDS = 20;

  private final Path dir;
  private final boolean enabled;

  /** Lines with a training worker or an assembly running, by key. */
  @GuardedBy("this")
  private final Set<String> busy = new HashSet<>();

  /** Assemblies running, each with the future its waiting thread completes when done. */
  @GuardedBy("this")
  private final Map<Process, CompletableFuture<Void>> assemblies = new HashMap<>();

  @GuardedBy("this")
  private boolean closed;

  /** A cache in {@code dir}; {@code enabled} false makes every plan a plain launch. */
  WorkerLaunchCache(Path dir, boolean enabled) {
    this.dir = dir;
    this.enabled = enabled && prepare(dir);
  }

  /**
   * The cache of the node whose session directory is {@code sessionDir}: in its session root, so
   * that every session of the root shares it. The system property {@code sluice.worker.aot=false}
   * turns it off.
   */
  static WorkerLaunchCache forSession(Path sessionDir) {
    Path root = sessionDir.toAbsolutePath().getParent();
    boolean on = !"false".equalsIgnoreCase(System.getProperty("sluice.worker.aot", "true"));
    return new WorkerLaunchCache(
        root == null ? sessionDir.resolve("cache") : root.resolve("cache").resolve("worker-aot"),
        on && root != null);
  }

  /** The directory of the cache files. */
  Path directory() {
    return dir;
  }

  /**
   * What a worker launched with {@code jvmOptions} and {@code classPath} adds to its command line:
   * the cache if there is one, else a recording if no other worker of the line records, else
   * nothing. The caller must report the worker's exit to {@link Plan#finished}.
   */
  Plan plan(String java, List<String> jvmOptions, List<Path> classPath) {
    if (!enabled
        || jvmOptions.stream().anyMatch(o -> SHARING_OPTIONS.stream().anyMatch(o::startsWith))
        || classPath.isEmpty()
        || !classPath.stream().allMatch(WorkerLaunchCache::isJar)) {
      return Plan.NONE;
    }
    String key;
    try {
      key = key(java, jvmOptions, classPath);
    } catch (IOException e) {
      return Plan.NONE;
    }
    Path cache = dir.resolve(key + ".aot");
    if (Files.isRegularFile(cache)) {
      return new Plan(List.of("-XX:AOTCache=" + cache), null, null);
    }
    synchronized (this) {
      if (closed || !busy.add(key)) {
        return Plan.NONE;
      }
    }
    Path config = dir.resolve(key + ".aotconf");
    if (Files.isRegularFile(config)) {
      // A configuration recorded by an earlier worker (perhaps another session's) is waiting to
      // be assembled; this worker starts plain meanwhile.
      assemble(key, java, jvmOptions, classPath);
      return Plan.NONE;
    }
    Path recording = dir.resolve(key + "-" + UUID.randomUUID() + ".aotconf.tmp");
    return new Plan(
        List.of(
            "-XX:AOTMode=record", "-XX:AOTConfiguration=" + recording, "-Xlog:aot=error,cds=error"),
        recording,
        (exitCode, registered) ->
            trained(key, recording, exitCode, registered, java, jvmOptions, classPath));
  }

  /** A training worker of line {@code key} exited: keep its recording if it is complete. */
  private void trained(
      String key,
      Path recording,
      int exitCode,
      boolean registered,
      String java,
      List<String> jvmOptions,
      List<Path> classPath) {
    // 0: the worker halted when the node manager went away; 143: SIGTERM. Either way the JVM
    // wrote the configuration on its way out. Anything else (SIGKILL in the middle of writing, a
    // crash) may have left a partial file. A worker that never registered recorded too little.
    boolean complete = registered && (exitCode == 0 || exitCode == 143) && size(recording) > 0;
    if (!complete) {
      log.info(
          "AOT recording {} dropped: worker exit code {}, registered {}, {} bytes",
          recording.getFileName(),
          exitCode,
          registered,
          size(recording));
      deleteQuietly(recording);
      synchronized (this) {
        busy.remove(key);
      }
      return;
    }
    try {
      move(recording, dir.resolve(key + ".aotconf"));
    } catch (IOException e) {
      log.debug("cannot keep the AOT recording {}: {}", recording, e.toString());
      deleteQuietly(recording);
      synchronized (this) {
        busy.remove(key);
      }
      return;
    }
    assemble(key, java, jvmOptions, classPath);
  }

  /** Assembles line {@code key}'s recorded configuration into its cache, in the background. */
  private void assemble(String key, String java, List<String> jvmOptions, List<Path> classPath) {
    Path config = dir.resolve(key + ".aotconf");
    Path tmp = dir.resolve(key + "-" + UUID.randomUUID() + ".aot.tmp");
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    cmd.addAll(jvmOptions);
    cmd.addAll(
        List.of(
            "-XX:AOTMode=create",
            "-XX:AOTConfiguration=" + config,
            "-XX:AOTCache=" + tmp,
            "-Xlog:aot=error,cds=error",
            "-cp",
            ClassPathResolver.join(classPath)));
    Process p;
    synchronized (this) {
      if (closed) {
        busy.remove(key);
        return;
      }
      try {
        p =
            new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(
                    ProcessBuilder.Redirect.appendTo(dir.resolve(key + ".create.log").toFile()))
                .start();
      } catch (IOException e) {
        log.debug("cannot start the AOT cache assembly of {}: {}", key, e.toString());
        busy.remove(key);
        return;
      }
      assemblies.put(p, new CompletableFuture<>());
    }
    Thread.ofVirtual()
        .name("sluice-aot-assembly")
        .start(
            () -> {
              long t0 = System.nanoTime();
              boolean ok = false;
              try {
                ok =
                    p.waitFor(CREATE_TIMEOUT_SECONDS, TimeUnit.SECONDS)
                        && p.exitValue() == 0
                        && size(tmp) > 0;
                if (ok) {
                  move(tmp, dir.resolve(key + ".aot"));
                  deleteQuietly(config);
                  log.info(
                      "worker AOT cache {} ready ({} MiB, assembled in {} ms)",
                      key + ".aot",
                      size(dir.resolve(key + ".aot")) >> 20,
                      TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
                }
              } catch (IOException e) {
                ok = false;
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              } finally {
                // -1: still running (timed out or interrupted); 137: killed by close().
                int code = p.isAlive() ? -1 : p.exitValue();
                p.destroyForcibly();
                deleteQuietly(tmp);
                synchronized (this) {
                  assemblies.remove(p).complete(null);
                  busy.remove(key);
                  if (!ok && code != -1 && code != 137) {
                    // A configuration that does not assemble would fail again: drop it, so that a
                    // later
                    // worker records afresh. (One whose assembly was killed at close stays for
                    // later.)
                    deleteQuietly(config);
                    log.debug(
                        "worker AOT cache {} could not be assembled (see {})",
                        key,
                        dir.resolve(key + ".create.log"));
                  }
                }
              }
            });
  }

  /**
   * Lets an assembly still running finish (up to {@value #CLOSE_WAIT_SECONDS} s, then stops it):
   * training usually ends when the node stops, so this is when a line's cache gets made, once.
   */
  @Override
  public void close() {
    List<CompletableFuture<Void>> running;
    synchronized (this) {
      closed = true;
      running = new ArrayList<>(assemblies.values());
    }
    try {
      CompletableFuture.allOf(running.toArray(CompletableFuture[]::new))
          .get(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // stopped below
    }
    List<Process> left;
    synchronized (this) {
      left = new ArrayList<>(assemblies.keySet());
    }
    for (Process p : left) {
      p.destroyForcibly();
      try {
        p.waitFor(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /**
   * The line's key: SHA-256 of the JDK, the options and the class path with each jar's size and
   * modification time. The worker's own log file ({@code -Dsluice.worker.log=...}, one per worker)
   * is left out: it does not change what the JVM loads, and with it no two workers would share a
   * line.
   */
  static String key(String java, List<String> jvmOptions, List<Path> classPath) throws IOException {
    MessageDigest md = CodePackager.newDigest();
    StringBuilder sb = new StringBuilder();
    sb.append(java).append('\n').append(System.getProperty("java.vm.version")).append('\n');
    String logFile = "-D" + ProcessLogConfigurator.FILE_PROPERTY + "=";
    jvmOptions.stream().filter(o -> !o.startsWith(logFile)).forEach(o -> sb.append(o).append('\n'));
    for (Path p : classPath) {
      sb.append(p.toAbsolutePath())
          .append('|')
          .append(Files.size(p))
          .append('|')
          .append(Files.getLastModifiedTime(p).toMillis())
          .append('\n');
    }
    md.update(sb.toString().getBytes(StandardCharsets.UTF_8));
    return HexFormat.of().formatHex(md.digest()).substring(0, 32);
  }

  private static boolean isJar(Path p) {
    return p.toString().endsWith(".jar") && Files.isRegularFile(p);
  }

  /** Creates {@code dir} owner-only; false (no cache) if it is not ours or cannot be made. */
  private static boolean prepare(Path dir) {
    try {
      if (!Files.isDirectory(dir)) {
        Files.createDirectories(dir.getParent());
        try {
          Files.createDirectory(
              dir,
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (java.nio.file.FileAlreadyExistsException e) {
          // another node manager made it at the same time
        }
      }
      if (!Files.getOwner(dir).getName().equals(System.getProperty("user.name"))) {
        log.warn("worker AOT caches off: {} belongs to {}", dir, Files.getOwner(dir).getName());
        return false;
      }
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
      removeOrphans(dir);
      return true;
    } catch (IOException | UnsupportedOperationException e) {
      log.debug("worker AOT caches off: cannot use {}: {}", dir, e.toString());
      return false;
    }
  }

  /** Deletes temporary files a killed node manager or JVM left behind more than an hour ago. */
  private static void removeOrphans(Path dir) throws IOException {
    long cutoff = System.currentTimeMillis() - TimeUnit.HOURS.toMillis(1);
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(f -> f.toString().endsWith(".tmp")).toList()) {
        if (Files.getLastModifiedTime(f).toMillis() < cutoff) {
          deleteQuietly(f);
        }
      }
    }
  }

  private static long size(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      return -1;
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException ignored) {
      // a temporary file of the cache directory; a later run overwrites or ignores it
    }
  }

  /** Reacts to a training worker's exit. */
  @FunctionalInterface
  interface ExitHandler {
    void exited(int exitCode, boolean registered);
  }

  /**
   * The cache's part of one worker's launch.
   *
   * @param jvmOptions options to add to the worker's command line
   * @param recording the file a training worker records to, or null
   * @param onExit what to do when the worker exits, or null
   */
  record Plan(List<String> jvmOptions, Path recording, ExitHandler onExit) {
    static final Plan NONE = new Plan(List.of(), null, null);

    /** Reports the worker's exit; call once (the caller guards against a second report). */
    void finished(int exitCode, boolean registered) {
      if (onExit != null) {
        onExit.exited(exitCode, registered);
      }
    }
  }
}
