package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.runtime.common.ProcessCommandLine;
import dev.sluice.runtime.driver.EmbeddedCluster;
import dev.sluice.runtime.rpc.RpcSecurity;
import dev.sluice.runtime.rpc.TestCertificates;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A whole cluster, worker JVMs included, runs with the cluster token and mutual TLS. */
@Timeout(120)
class SecureClusterTest {
  @TempDir Path certDir;

  static long pid() {
    return ProcessHandle.current().pid();
  }

  /** The whole command line as {@code ps} shows it ({@code ProcessHandle.Info} cuts it short). */
  @BeforeEach
  void noClusterRunning() {
    if (Sluice.isInitialized()) {
      Sluice.shutdown();
    }
  }

  @AfterEach
  void stopCluster() {
    SluiceTestSupport.stopAndAssertNoWorkers();
  }

  @Test
  void workersReceiveTokenAndTlsFilesAndServeTasksOverMutualTls() throws Exception {
    TestCertificates certs = TestCertificates.create(certDir);
    RpcSecurity security =
        RpcSecurity.token(RpcSecurity.generateToken())
            .withTls(certs.nodeCert(), certs.nodeKey(), certs.ca());
    Sluice.installRuntime(
        EmbeddedCluster.start(SluiceConfig.builder().numCpus(1).build(), security));

    long workerPid = Sluice.task(SecureClusterTest::pid).remote().get(Duration.ofSeconds(60));

    String commandLine =
        ProcessCommandLine.of(ProcessHandle.of(workerPid).orElseThrow()).orElseThrow();
    assertThat(commandLine)
        .contains(SluiceTestSupport.WORKER_MAIN)
        .contains("--tls-ca " + certs.ca())
        .doesNotContain(security.token());
  }
}
