package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.runtime.code.CodePackager;
import dev.sluice.runtime.code.PackageClient;
import dev.sluice.runtime.code.PackageUploader;
import dev.sluice.runtime.daemon.LocalCluster;
import dev.sluice.runtime.node.ClassPathResolver;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.RpcSecurity;
import dev.sluice.runtime.rpc.proto.ControlServiceGrpc;
import dev.sluice.runtime.rpc.proto.HasPackagesRequest;
import dev.sluice.runtime.rpc.proto.NodeManagerServiceGrpc;
import dev.sluice.runtime.rpc.proto.NodeStatsRequest;
import dev.sluice.runtime.rpc.proto.PackageStatsReply;
import dev.sluice.runtime.rpc.proto.PackageStatsRequest;
import dev.sluice.runtime.rpc.proto.WorkerInfo;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Code distribution: the node daemons of this cluster run without the test classes, so the
 * functions below exist only on the driver; the driver ships its class path to the head, and each
 * node fetches it once and runs the job's tasks in workers of that job.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class CodeDistributionTest {
  private static LocalCluster cluster;
  private static RpcFactory rpc;
  private static ManagedChannel control;
  private static Path logConfig;

  @BeforeAll
  static void startCluster() throws IOException {
    List<Path> all = ClassPathResolver.effectiveClassPath();
    Path testClasses = Path.of("target", "test-classes").toAbsolutePath();
    List<Path> withoutTests =
        new ArrayList<>(all.stream().filter(p -> !p.equals(testClasses)).toList());
    assertThat(withoutTests)
        .as("the daemons' class path lacks the test classes")
        .hasSizeLessThan(all.size());
    // The daemons keep the tests' logging configuration, and nothing else of the test classes.
    logConfig = Files.createTempDirectory("sluice-log-config");
    Files.copy(testClasses.resolve("logback-test.xml"), logConfig.resolve("logback-test.xml"));
    withoutTests.add(logConfig);
    cluster =
        LocalCluster.builder()
            .nodes(2)
            .cpusPerNode(2)
            .workersPerNode(1)
            .daemonClassPath(withoutTests)
            .start();
    rpc =
        new RpcFactory(
            SluiceConfig.builder().build().maxMessageBytes(), RpcSecurity.token(cluster.token()));
    control = rpc.newChannel(cluster.address());
  }

  @AfterAll
  static void stopCluster() throws IOException {
    try {
      if (Sluice.isInitialized()) {
        Sluice.shutdown();
      }
      if (control != null) {
        RpcFactory.shutdownQuietly(control);
      }
    } finally {
      if (cluster != null) {
        cluster.close();
      }
      if (logConfig != null) {
        Files.deleteIfExists(logConfig.resolve("logback-test.xml"));
        Files.deleteIfExists(logConfig);
      }
    }
    SluiceTestSupport.awaitNoWorkerProcesses();
  }

  static String secret(String x) {
    return "driver-only " + x + " on " + Sluice.runtimeContext().nodeId().hex();
  }

  static String nested(String x) {
    return "nested " + Sluice.task(CodeDistributionTest::secret, x).remote().get();
  }

  static Iterator<String> secretItems(Integer n) {
    String node = Sluice.runtimeContext().nodeId().hex();
    return IntStream.range(0, n).mapToObj(i -> "item " + i + " on " + node).iterator();
  }

  private static PackageStatsReply stats() {
    return ControlServiceGrpc.newBlockingStub(control)
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .getPackageStats(PackageStatsRequest.getDefaultInstance());
  }

  /** Runs a task, a nested task and a streaming generator of test code on every node. */
  private static void runDriverOnlyCodeOnEveryNode() {
    for (LocalCluster.Node n : cluster.nodes()) {
      TaskOptions here = TaskOptions.builder().nodeAffinity(n.nodeId(), false).build();
      assertThat(Sluice.task(CodeDistributionTest::secret, "task").options(here).remote().get())
          .isEqualTo("driver-only task on " + n.nodeId().hex());
      assertThat(Sluice.task(CodeDistributionTest::nested, "call").options(here).remote().get())
          .startsWith("nested driver-only call on ");
      List<String> items = new ArrayList<>();
      try (ObjectRefGenerator<String> gen =
          Sluice.generator(CodeDistributionTest::secretItems, 5).options(here).remote()) {
        for (ObjectRef<String> ref : gen) {
          items.add(ref.get());
        }
      }
      assertThat(items).hasSize(5).allMatch(s -> s.endsWith(" on " + n.nodeId().hex()));
    }
  }

  @Test
  void driverOnlyCodeRunsOnEveryNodeAndIsShippedOnce() throws IOException {
    PackageStatsReply before = stats();
    SluiceTestSupport.start(cluster.driverConfig().build());
    runDriverOnlyCodeOnEveryNode();
    PackageStatsReply first = stats();
    assertThat(first.getUploads() - before.getUploads())
        .as("the test classes, which the head lacks, were uploaded")
        .isGreaterThanOrEqualTo(1);
    assertThat(first.getDownloads() - before.getDownloads())
        .as("the other node downloaded them")
        .isGreaterThanOrEqualTo(1);
    LocalCluster.Node other = cluster.nodes().get(1);
    try (Stream<Path> cached = Files.list(other.sessionDir().resolve("packages"))) {
      assertThat(cached.filter(p -> p.toString().endsWith(".jar")).count()).isGreaterThan(0);
    }
    JobId job1 = Sluice.runtimeContext().jobId();
    assertThat(workerJobs(other))
        .as("the node runs workers dedicated to the job")
        .contains(HexFormat.of().formatHex(job1.toBytes()));

    // A second job with the same code: nothing is uploaded or downloaded again.
    SluiceTestSupport.start(cluster.driverConfig().build());
    assertThat(Sluice.runtimeContext().jobId()).isNotEqualTo(job1);
    runDriverOnlyCodeOnEveryNode();
    PackageStatsReply second = stats();
    assertThat(second.getUploads()).isEqualTo(first.getUploads());
    assertThat(second.getDownloads()).isEqualTo(first.getDownloads());
    Sluice.shutdown();
  }

  private static List<String> workerJobs(LocalCluster.Node node) {
    ManagedChannel ch = rpc.newChannel(node.nodeManagerTarget());
    try {
      return NodeManagerServiceGrpc.newBlockingStub(ch)
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .getNodeStats(NodeStatsRequest.getDefaultInstance())
          .getWorkersList()
          .stream()
          .map(WorkerInfo::getJobId)
          .map(b -> HexFormat.of().formatHex(b.toByteArray()))
          .toList();
    } finally {
      RpcFactory.shutdownQuietly(ch);
    }
  }

  @Test
  void aPackageWhoseBytesDoNotMatchItsNameIsRejected(@TempDir Path dir) throws IOException {
    Path jar = Files.writeString(dir.resolve("forged.jar"), "not the bytes the name promises");
    Path honest = Files.writeString(dir.resolve("honest.jar"), "other bytes");
    String wrongName = CodePackager.sha256(honest);
    long rejectedBefore = stats().getRejectedUploads();
    PackageUploader uploader = new PackageUploader(new PackageClient(control), 4 << 20);

    assertThatThrownBy(
            () -> uploader.upload(new CodePackager.CodePackage(wrongName, jar, jar, false)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("refused package " + wrongName)
        .hasMessageContaining("INVALID_ARGUMENT");
    assertThat(
            ControlServiceGrpc.newBlockingStub(control)
                .hasPackages(HasPackagesRequest.newBuilder().addSha256(wrongName).build())
                .getMissingList())
        .containsExactly(wrongName);
    assertThat(stats().getRejectedUploads()).isEqualTo(rejectedBefore + 1);

    // The honest upload of the same name is accepted.
    uploader.upload(new CodePackager.CodePackage(wrongName, honest, honest, false));
    assertThat(
            ControlServiceGrpc.newBlockingStub(control)
                .hasPackages(HasPackagesRequest.newBuilder().addSha256(wrongName).build())
                .getMissingList())
        .isEmpty();
  }

  @Test
  void aClassDirectoryPacksToTheSameBytesEveryTime(@TempDir Path dir) throws IOException {
    Path classes = Files.createDirectories(dir.resolve("classes"));
    Files.createDirectories(classes.resolve("a/b"));
    Files.writeString(classes.resolve("a/b/C.class"), "class bytes", StandardCharsets.UTF_8);
    Files.writeString(classes.resolve("a/D.txt"), "resource", StandardCharsets.UTF_8);
    String first = onlyPackage(classes, dir.resolve("work1"));
    Files.setLastModifiedTime(classes.resolve("a/b/C.class"), FileTime.fromMillis(12345));
    assertThat(onlyPackage(classes, dir.resolve("work2"))).isEqualTo(first);
    Files.writeString(classes.resolve("a/D.txt"), "changed", StandardCharsets.UTF_8);
    assertThat(onlyPackage(classes, dir.resolve("work3"))).isNotEqualTo(first);
  }

  private static String onlyPackage(Path entry, Path work) throws IOException {
    List<CodePackager.CodePackage> p = CodePackager.packages(List.of(entry), work);
    assertThat(p).hasSize(1);
    assertThat(CodePackager.sha256(p.getFirst().file())).isEqualTo(p.getFirst().sha256());
    CodePackager.deletePacked(p);
    return p.getFirst().sha256();
  }
}
