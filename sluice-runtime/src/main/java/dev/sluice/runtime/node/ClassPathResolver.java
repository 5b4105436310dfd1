package dev.sluice.runtime.node;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * Works out the class path worker processes load user code from: the driver's effective class path.
 * Build tools and IDEs often launch a JVM with a "manifest-only" jar whose {@code Class-Path}
 * attribute lists the real entries (Maven Surefire does); such jars are expanded recursively so
 * that workers see every entry even after the tool deletes the jar. An entry that cannot be read as
 * a jar is kept as it is, as the JVM does.
 */
public final class ClassPathResolver {
  private ClassPathResolver() {}

  /** This JVM's effective class path, manifest-only jars expanded. */
  public static List<Path> effectiveClassPath() {
    List<Path> entries = new ArrayList<>();
    for (String e : System.getProperty("java.class.path", "").split(File.pathSeparator)) {
      if (!e.isBlank()) {
        entries.add(Paths.get(e).toAbsolutePath().normalize());
      }
    }
    return expand(entries);
  }

  /** {@code entries} with each jar's manifest {@code Class-Path} entries added after it. */
  public static List<Path> expand(List<Path> entries) {
    Set<Path> out = new LinkedHashSet<>();
    for (Path p : entries) {
      addWithManifest(p, out);
    }
    return List.copyOf(out);
  }

  private static void addWithManifest(Path entry, Set<Path> out) {
    if (!out.add(entry) || !Files.isRegularFile(entry) || !entry.toString().endsWith(".jar")) {
      return;
    }
    String classPath;
    try (JarFile jar = new JarFile(entry.toFile())) {
      Manifest mf = jar.getManifest();
      classPath = mf == null ? null : mf.getMainAttributes().getValue(Attributes.Name.CLASS_PATH);
    } catch (IOException e) {
      // The JVM itself tolerates an unreadable jar on the class path; so do workers.
      return;
    }
    if (classPath == null || classPath.isBlank()) {
      return;
    }
    Path base = entry.getParent();
    for (String ref : classPath.trim().split("\\s+")) {
      Path resolved = resolveManifestEntry(base, ref);
      if (resolved != null && Files.exists(resolved)) {
        addWithManifest(resolved, out);
      }
    }
  }

  private static Path resolveManifestEntry(Path base, String ref) {
    try {
      URI uri = new URI(ref);
      if (uri.isAbsolute()) {
        return "file".equals(uri.getScheme()) ? Paths.get(uri).normalize() : null;
      }
      URI baseUri = base == null ? Paths.get("").toAbsolutePath().toUri() : base.toUri();
      return Paths.get(baseUri.resolve(uri)).normalize();
    } catch (URISyntaxException | IllegalArgumentException e) {
      return (base == null ? Paths.get(ref) : base.resolve(ref)).toAbsolutePath().normalize();
    }
  }

  /** The entries joined with the platform's path separator. */
  public static String join(List<Path> entries) {
    return String.join(File.pathSeparator, entries.stream().map(Path::toString).toList());
  }
}
