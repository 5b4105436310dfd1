package dev.sluice.runtime.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Manifest-only jars (as Maven Surefire and IDEs launch JVMs with) are expanded so that workers get
 * the driver's real class path.
 */
class ClassPathResolverTest {
  @TempDir Path dir;

  /** Writes a jar with one class-file-like entry and, if given, a manifest Class-Path. */
  private static Path jar(Path path, String classPath) throws IOException {
    Files.createDirectories(path.getParent());
    Manifest mf = new Manifest();
    mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    if (classPath != null) {
      mf.getMainAttributes().put(Attributes.Name.CLASS_PATH, classPath);
    }
    try (OutputStream out = Files.newOutputStream(path);
        JarOutputStream jar = new JarOutputStream(out, mf)) {
      jar.putNextEntry(new JarEntry("x/Y.class"));
      jar.write(new byte[] {(byte) 0xCA, (byte) 0xFE});
      jar.closeEntry();
    }
    return path.toAbsolutePath().normalize();
  }

  private Path directory(String name) throws IOException {
    return Files.createDirectories(dir.resolve(name)).toAbsolutePath().normalize();
  }

  @Test
  void aJarWithoutClassPathIsKeptAsItIs() throws IOException {
    Path plain = jar(dir.resolve("plain.jar"), null);
    Path classes = directory("classes");
    assertThat(ClassPathResolver.expand(List.of(plain, classes))).containsExactly(plain, classes);
  }

  @Test
  void relativeEntriesResolveAgainstTheJarsDirectory() throws IOException {
    Path a = jar(dir.resolve("lib/a.jar"), null);
    Path b = jar(dir.resolve("boot/deps/b.jar"), null);
    Path classes = directory("boot/classes");
    Path boot = jar(dir.resolve("boot/boot.jar"), "../lib/a.jar deps/b.jar classes/");

    assertThat(ClassPathResolver.expand(List.of(boot))).containsExactly(boot, a, b, classes);
  }

  @Test
  void absoluteFileUrlEntriesResolveIncludingEscapedSpaces() throws IOException {
    Path spaced = jar(dir.resolve("my libs/dep one.jar"), null);
    Path classes = directory("target dir/test-classes");
    String uris = spaced.toUri() + " " + classes.toUri();
    assertThat(uris).contains("%20");
    Path boot = jar(dir.resolve("surefire/surefirebooter.jar"), uris);

    assertThat(ClassPathResolver.expand(List.of(boot))).containsExactly(boot, spaced, classes);
  }

  @Test
  void nonFileUrlsAreIgnored() throws IOException {
    Path a = jar(dir.resolve("a.jar"), null);
    Path boot = jar(dir.resolve("boot.jar"), "http://example.com/remote.jar a.jar");
    assertThat(ClassPathResolver.expand(List.of(boot))).containsExactly(boot, a);
  }

  @Test
  void nestedManifestJarsAreExpandedRecursivelyDepthFirst() throws IOException {
    Path deep = jar(dir.resolve("deep/deep.jar"), null);
    Path sibling = jar(dir.resolve("sibling.jar"), null);
    Path inner = jar(dir.resolve("inner/inner.jar"), "../deep/deep.jar");
    Path outer = jar(dir.resolve("outer.jar"), "inner/inner.jar sibling.jar");

    assertThat(ClassPathResolver.expand(List.of(outer)))
        .containsExactly(outer, inner, deep, sibling);
  }

  @Test
  void missingEntriesAreSkipped() throws IOException {
    Path a = jar(dir.resolve("a.jar"), null);
    Path boot =
        jar(
            dir.resolve("boot.jar"),
            "missing.jar gone/ a.jar " + dir.resolve("nowhere.jar").toUri());

    assertThat(ClassPathResolver.expand(List.of(boot))).containsExactly(boot, a);
  }

  @Test
  void cyclesAndSelfReferencesTerminateWithEachEntryOnce() throws IOException {
    Path a = dir.resolve("a.jar");
    Path b = dir.resolve("b.jar");
    Path c = dir.resolve("c.jar");
    jar(a, "b.jar a.jar");
    jar(b, "c.jar");
    jar(c, "a.jar b.jar");

    List<Path> out =
        assertTimeoutPreemptively(
            Duration.ofSeconds(10), () -> ClassPathResolver.expand(List.of(a.toAbsolutePath())));
    assertThat(out).containsExactly(a.toAbsolutePath(), b.toAbsolutePath(), c.toAbsolutePath());
  }

  @Test
  void entriesListedTwiceAppearOnceAtTheirFirstPosition() throws IOException {
    Path a = jar(dir.resolve("a.jar"), null);
    Path b = jar(dir.resolve("b.jar"), null);
    Path boot = jar(dir.resolve("boot.jar"), "a.jar b.jar a.jar");

    assertThat(ClassPathResolver.expand(List.of(b, boot, a))).containsExactly(b, boot, a);
  }

  @Test
  void directoriesAndNonJarFilesAreNotOpened() throws IOException {
    Path classes = directory("classes.jar"); // a directory whose name ends in .jar
    Path text = Files.writeString(dir.resolve("notes.txt"), "not a jar");
    assertThat(ClassPathResolver.expand(List.of(classes, text))).containsExactly(classes, text);
  }

  /**
   * A JVM starts and runs fine with an empty or corrupt jar on its class path (the entry is simply
   * useless), so such an entry must not make Sluice.init() fail: it is kept as given for the
   * workers, whose JVMs tolerate it the same way, and expansion goes on.
   */
  @Test
  void anUnreadableJarIsKeptAsItIsAndDoesNotStopTheExpansion() throws IOException {
    Path empty = Files.createFile(dir.resolve("empty.jar")).toAbsolutePath().normalize();
    Path corrupt =
        Files.writeString(dir.resolve("corrupt.jar"), "not a zip").toAbsolutePath().normalize();
    Path a = jar(dir.resolve("a.jar"), null);
    Path boot = jar(dir.resolve("boot.jar"), "a.jar");

    assertThat(ClassPathResolver.expand(List.of(empty, corrupt, boot)))
        .containsExactly(empty, corrupt, boot, a);
  }

  @Test
  void effectiveClassPathContainsThisTestsClassesWithManifestJarsExpanded()
      throws URISyntaxException {
    Path testClasses =
        Path.of(
                ClassPathResolverTest.class
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI())
            .toAbsolutePath()
            .normalize();
    Path apiJarOrClasses =
        Path.of(dev.sluice.Sluice.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .toAbsolutePath()
            .normalize();

    List<Path> cp = ClassPathResolver.effectiveClassPath();

    // Under Surefire java.class.path is a single manifest-only jar: these appear only if it
    // was expanded.
    assertThat(cp).contains(testClasses, apiJarOrClasses);
    assertThat(cp).allSatisfy(p -> assertThat(p.isAbsolute()).isTrue());
    assertThat(cp).doesNotHaveDuplicates();
  }

  @Test
  void joinUsesThePlatformPathSeparator() {
    Path a = dir.resolve("a.jar").toAbsolutePath();
    Path b = dir.resolve("b").toAbsolutePath();
    assertThat(ClassPathResolver.join(List.of(a, b))).isEqualTo(a + File.pathSeparator + b);
    assertThat(ClassPathResolver.join(List.of())).isEmpty();
  }
}
