package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Usage errors, and the commands' behaviour when there is nothing to act on. */
class UsageTest {
  @TempDir Path root;

  @Test
  void headAndAddressTogetherIsAUsageError() {
    CliRun r = CliRun.of(root, "start", "--head", "--address", "127.0.0.1:6390");
    assertThat(r.code()).as(r.toString()).isEqualTo(2);
    assertThat(r.err()).contains("mutually exclusive").contains("sluice start --help");
    assertThat(root.resolve("daemons")).doesNotExist();
  }

  @Test
  void neitherHeadNorAddressIsAUsageError() {
    CliRun r = CliRun.of(root, "start");
    assertThat(r.code()).as(r.toString()).isEqualTo(2);
    assertThat(r.err()).contains("--head").contains("--address");
  }

  @Test
  void badResourcesAreAUsageErrorAndStartNothing() throws IOException {
    for (String bad : new String[] {"GPU", "GPU=lots", "GPU=-1", "CPU=4"}) {
      CliRun r = CliRun.of(root, "start", "--head", "--resources", bad);
      assertThat(r.code()).as(r.toString()).isEqualTo(2);
      assertThat(r.err())
          .contains("Invalid value for option '--resources'")
          .contains("'" + bad + "'");
    }
    try (var files = Files.list(root)) {
      assertThat(files).isEmpty();
    }
  }

  @Test
  void badAddressAndNumbersAreUsageErrors() {
    assertThat(CliRun.of(root, "start", "--address", "nohost").code()).isEqualTo(2);
    assertThat(CliRun.of(root, "status", "--address", "h:99999").code()).isEqualTo(2);
    assertThat(CliRun.of(root, "start", "--head", "--num-cpus", "-1").err())
        .contains("--num-cpus must be >= 0");
    assertThat(CliRun.of(root, "start", "--head", "--tls", "--tls-cert", "a.pem").err())
        .contains("--tls-key");
    assertThat(CliRun.of(root, "start", "--head", "--tls-cert", "a.pem").err())
        .contains("only go with --tls");
    assertThat(CliRun.of(root, "start", "--head", "--tls").err()).contains("--tls needs all of");
    assertThat(CliRun.of("frobnicate").code()).isEqualTo(2);
  }

  @Test
  void statusWithoutHeadAsksForAnAddress() {
    CliRun r = CliRun.of(root, "status");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("pass --address HOST:PORT");
  }

  @Test
  void stopWithNothingRecordedSucceeds() {
    CliRun r = CliRun.of(root, "stop");
    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.out()).contains("no running Sluice node");
  }

  @Test
  void stopRemovesRecordsOfGoneOrForeignProcessesWithoutSignallingThem() throws Exception {
    Process foreign = new ProcessBuilder("sleep", "60").start();
    try {
      Process gone = new ProcessBuilder("true").start();
      gone.waitFor(10, TimeUnit.SECONDS);
      for (long pid : new long[] {foreign.pid(), gone.pid()}) {
        new DaemonRecord(
                pid,
                root.resolve("s" + pid),
                "127.0.0.1:6390",
                "127.0.0.1:1",
                "00112233445566778899aabbccddeeff",
                false)
            .write(root);
      }
      CliRun r = CliRun.of(root, "stop");
      assertThat(r.code()).as(r.toString()).isZero();
      assertThat(r.outLines()).hasSize(2).allSatisfy(l -> assertThat(l).startsWith("not running"));
      assertThat(foreign.isAlive()).isTrue();
      try (var files = Files.list(root.resolve("daemons"))) {
        assertThat(files).isEmpty();
      }
    } finally {
      foreign.destroyForcibly();
    }
  }
}
