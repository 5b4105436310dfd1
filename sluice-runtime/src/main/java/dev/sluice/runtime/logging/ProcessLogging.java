package dev.sluice.runtime.logging;

import dev.sluice.runtime.common.OwnerOnlyFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How Sluice starts its own processes' logging (worker JVMs and node daemons), whatever the class
 * path they run holds: logback, shipped inside the runtime's jar ({@code META-INF/sluice/logging/})
 * rather than as a dependency so that a driver's class path keeps the SLF4J binding its user chose,
 * is put first on the process's class path (extracted once into {@code <session
 * root>/cache/process-logging/<hash>/}), SLF4J is told to use it ({@code -Dslf4j.provider}, so a
 * second binding on the class path is neither a conflict nor a warning), and {@link
 * ProcessLogConfigurator} writes the process's size-rotated log file.
 *
 * <p>A process whose JVM options end with another {@code -Dsluice.worker.logging} value (e.g.
 * {@code classpath}) gets none of this: its class path's binding and configuration apply.
 *
 * <p>Thread-safe: the extracted jars are found once per cache directory and JVM.
 */
public final class ProcessLogging {
  /** Where the jars are inside the runtime's jar (or class directory). */
  static final String RESOURCE_DIR = "META-INF/sluice/logging/";

  /** The jars, in class path order. */
  static final List<String> JARS = List.of("logback-classic.jar", "logback-core.jar");

  /** Logback's SLF4J provider. */
  static final String PROVIDER = "ch.qos.logback.classic.spi.LogbackServiceProvider";

  private static final Map<Path, List<Path>> EXTRACTED = new ConcurrentHashMap<>();

  private ProcessLogging() {}

  /**
   * The JVM options that turn on the built-in logging, writing to {@code logFile} (which may hold
   * {@code {pid}}): they go before the user's options, which may turn it off again.
   */
  public static List<String> jvmOptions(Path logFile) {
    return List.of(
        "-D" + ProcessLogConfigurator.PROPERTY + "=" + ProcessLogConfigurator.BUILT_IN,
        "-D" + ProcessLogConfigurator.FILE_PROPERTY + "=" + logFile,
        "-Dslf4j.provider=" + PROVIDER,
        // Else SLF4J says on standard output which provider it loads, as it was told to.
        "-Dslf4j.internal.verbosity=WARN");
  }

  /**
   * Whether JVM options {@code options} (the runtime's, then the user's; the last setting wins, as
   * in the JVM) leave the built-in logging on.
   */
  public static boolean builtIn(List<String> options) {
    String prefix = "-D" + ProcessLogConfigurator.PROPERTY + "=";
    String mode = null;
    for (String o : options) {
      if (o.startsWith(prefix)) {
        mode = o.substring(prefix.length());
      }
    }
    return ProcessLogConfigurator.BUILT_IN.equals(mode);
  }

  /**
   * The class path entries that go before a process's own: the shipped logback jars (extracted into
   * {@code cacheDir} when the runtime runs from a jar), or nothing if this runtime was built
   * without them.
   */
  public static List<Path> classPath(Path cacheDir) throws IOException {
    List<Path> known = EXTRACTED.get(cacheDir);
    if (known != null) {
      return known;
    }
    List<Path> jars = new ArrayList<>();
    for (String name : JARS) {
      URL url = ProcessLogging.class.getClassLoader().getResource(RESOURCE_DIR + name);
      if (url == null) {
        return List.of();
      }
      jars.add(materialize(url, name, cacheDir));
    }
    List<Path> result = List.copyOf(jars);
    EXTRACTED.put(cacheDir, result);
    return result;
  }

  /** The jar at {@code url} as a file: itself if it is one, else a copy named by its hash. */
  private static Path materialize(URL url, String name, Path cacheDir) throws IOException {
    if ("file".equals(url.getProtocol())) {
      try {
        return Path.of(url.toURI());
      } catch (URISyntaxException e) {
        throw new IOException("bad resource URL " + url, e);
      }
    }
    byte[] bytes;
    try (InputStream in = url.openStream()) {
      bytes = in.readAllBytes();
    }
    String hash;
    try {
      hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes), 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    Path dir = cacheDir.resolve(hash);
    Path target = dir.resolve(name);
    if (Files.isRegularFile(target) && Files.size(target) == bytes.length) {
      return target;
    }
    OwnerOnlyFiles.createDirectories(dir);
    Path tmp = dir.resolve(name + ".tmp-" + ProcessHandle.current().pid());
    try (OutputStream out = OwnerOnlyFiles.newOutputStream(tmp)) {
      out.write(bytes);
    }
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return target;
  }

  /** The cache directory of the session root {@code root}. */
  public static Path cacheDir(Path root) {
    return root.resolve("cache").resolve("process-logging");
  }
}
