package dev.sluice.runtime.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launch-line rules of {@link WorkerLaunchCache}, without launching worker JVMs. */
class WorkerLaunchCacheTest {
  private static final String JAVA = "/jdk/bin/java";
  private static final List<String> OPTIONS = List.of("-XX:+UseParallelGC");

  @TempDir Path tmp;

  private Path jar(String name) throws IOException {
    return Files.write(tmp.resolve(name), new byte[] {1, 2, 3});
  }

  private WorkerLaunchCache cache() {
    return new WorkerLaunchCache(tmp.resolve("cache"), true);
  }

  @Test
  void firstWorkerOfALineRecordsAndTheOthersStartPlainMeanwhile() throws IOException {
    List<Path> cp = List.of(jar("a.jar"));
    WorkerLaunchCache cache = cache();
    WorkerLaunchCache.Plan first = cache.plan(JAVA, OPTIONS, cp);
    assertThat(first.jvmOptions())
        .contains("-XX:AOTMode=record")
        .anyMatch(o -> o.equals("-XX:AOTConfiguration=" + first.recording()));
    assertThat(first.recording().getParent()).isEqualTo(cache.directory());
    assertThat(cache.plan(JAVA, OPTIONS, cp).jvmOptions()).isEmpty();
  }

  @Test
  void recordingOfAKilledOrUnregisteredWorkerIsDroppedAndALaterWorkerRecordsAgain()
      throws IOException {
    List<Path> cp = List.of(jar("a.jar"));
    WorkerLaunchCache cache = cache();
    WorkerLaunchCache.Plan killed = cache.plan(JAVA, OPTIONS, cp);
    Files.write(killed.recording(), new byte[] {9});
    killed.finished(137, true);
    assertThat(killed.recording()).doesNotExist();

    WorkerLaunchCache.Plan unregistered = cache.plan(JAVA, OPTIONS, cp);
    assertThat(unregistered.recording()).isNotNull().isNotEqualTo(killed.recording());
    Files.write(unregistered.recording(), new byte[] {9});
    unregistered.finished(0, false);
    assertThat(unregistered.recording()).doesNotExist();
    assertThat(cache.plan(JAVA, OPTIONS, cp).recording()).isNotNull();
    try (var files = Files.list(cache.directory())) {
      assertThat(files.filter(f -> f.toString().endsWith(".aotconf"))).isEmpty();
    }
  }

  @Test
  void anExistingCacheIsUsed() throws IOException {
    List<Path> cp = List.of(jar("a.jar"), jar("b.jar"));
    WorkerLaunchCache cache = cache();
    Path aot = cache.directory().resolve(WorkerLaunchCache.key(JAVA, OPTIONS, cp) + ".aot");
    Files.write(aot, new byte[] {0});
    assertThat(cache.plan(JAVA, OPTIONS, cp).jvmOptions()).containsExactly("-XX:AOTCache=" + aot);
  }

  @Test
  void classPathWithADirectoryGetsNoCacheBecauseTheJvmArchivesOnlyJars() throws IOException {
    Path classes = Files.createDirectory(tmp.resolve("classes"));
    assertThat(cache().plan(JAVA, OPTIONS, List.of(jar("a.jar"), classes)))
        .isSameAs(WorkerLaunchCache.Plan.NONE);
  }

  @Test
  void workerOptionsThatChooseClassDataSharingThemselvesWin() throws IOException {
    List<Path> cp = List.of(jar("a.jar"));
    for (String o : List.of("-Xshare:off", "-XX:AOTCache=/x.aot", "-XX:SharedArchiveFile=/x.jsa")) {
      assertThat(cache().plan(JAVA, List.of(o), cp)).as(o).isSameAs(WorkerLaunchCache.Plan.NONE);
    }
  }

  @Test
  void disabledCacheNeverAddsOptions() throws IOException {
    assertThat(
            new WorkerLaunchCache(tmp.resolve("off"), false)
                .plan(JAVA, OPTIONS, List.of(jar("a.jar"))))
        .isSameAs(WorkerLaunchCache.Plan.NONE);
  }

  @Test
  void concurrentNodesRecordToDistinctTemporaryFiles() throws IOException {
    List<Path> cp = List.of(jar("a.jar"));
    WorkerLaunchCache.Plan a = cache().plan(JAVA, OPTIONS, cp);
    WorkerLaunchCache.Plan b = cache().plan(JAVA, OPTIONS, cp);
    assertThat(a.recording()).isNotNull().isNotEqualTo(b.recording());
    assertThat(a.recording().toString()).endsWith(".tmp");
  }

  @Test
  void changedJarOrOptionsMakeANewLine() throws IOException {
    Path jar = jar("a.jar");
    String before = WorkerLaunchCache.key(JAVA, OPTIONS, List.of(jar));
    assertThat(WorkerLaunchCache.key(JAVA, List.of("-Xmx1g"), List.of(jar))).isNotEqualTo(before);
    Files.setLastModifiedTime(
        jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() - 60_000));
    assertThat(WorkerLaunchCache.key(JAVA, OPTIONS, List.of(jar))).isNotEqualTo(before);
  }

  /** Rule: workers differing only in their own log file share a line (and so the cache). */
  @Test
  void eachWorkersOwnLogFileDoesNotMakeANewLine() throws IOException {
    Path jar = jar("a.jar");
    List<String> first = new ArrayList<>(OPTIONS);
    first.add("-Dsluice.worker.log=/s/logs/worker-aaaaaaaaaaaa-{pid}.log");
    List<String> second = new ArrayList<>(OPTIONS);
    second.add("-Dsluice.worker.log=/t/logs/worker-bbbbbbbbbbbb-{pid}.log");
    assertThat(WorkerLaunchCache.key(JAVA, second, List.of(jar)))
        .isEqualTo(WorkerLaunchCache.key(JAVA, first, List.of(jar)))
        .isEqualTo(WorkerLaunchCache.key(JAVA, OPTIONS, List.of(jar)));
  }

  @Test
  void cacheDirectoryIsOwnerOnly() throws IOException {
    Path dir = cache().directory();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)))
        .isEqualTo("rwx------");
  }
}
