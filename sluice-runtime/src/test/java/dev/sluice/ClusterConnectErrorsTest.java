package dev.sluice;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.runtime.control.ControlService;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.RpcSecurity;
import dev.sluice.runtime.rpc.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A driver that cannot join a cluster, or whose certificate cannot serve, fails at {@code init}
 * with a message that says what went wrong (token, TLS, certificate) and what to do. The "clusters"
 * here are bare control services, a plaintext and a TLS one.
 */
@Timeout(120)
class ClusterConnectErrorsTest {
  private static final int MAX_MESSAGE = 4 << 20;

  @TempDir static Path dir;
  private static TestCertificates clusterCerts;
  private static TestCertificates otherCa;
  private static String token;
  private static ControlService plain;
  private static ControlService tls;

  @BeforeAll
  static void startControlServices() throws Exception {
    clusterCerts = TestCertificates.create(Files.createDirectories(dir.resolve("cluster")));
    otherCa = TestCertificates.create(Files.createDirectories(dir.resolve("other")));
    token = RpcSecurity.generateToken();
    RpcSecurity security = RpcSecurity.token(token);
    plain =
        ControlService.start(
            new RpcFactory(MAX_MESSAGE, security), RpcFactory.LOOPBACK, 0, Duration.ofSeconds(30));
    tls =
        ControlService.start(
            new RpcFactory(
                MAX_MESSAGE,
                security.withTls(
                    clusterCerts.nodeCert(), clusterCerts.nodeKey(), clusterCerts.ca())),
            RpcFactory.LOOPBACK,
            0,
            Duration.ofSeconds(30));
  }

  @AfterAll
  static void stopControlServices() throws Exception {
    plain.close();
    tls.close();
  }

  @AfterEach
  void noDriverLeft() {
    if (Sluice.isInitialized()) {
      SluiceTestSupport.stopAndAssertNoWorkers();
    }
  }

  private static String at(ControlService s) {
    return RpcFactory.LOOPBACK + ":" + s.port();
  }

  private static SluiceConfig.Builder joining(ControlService s) {
    return SluiceConfig.builder()
        .address(at(s))
        .clusterToken(token)
        .sessionRoot(dir.resolve("sessions"));
  }

  /** Rule: a wrong token says the cluster refused it, not that no cluster answers. */
  @Test
  void wrongTokenSaysTheClusterRefusedIt() {
    SluiceConfig config = joining(plain).clusterToken(RpcSecurity.generateToken()).build();

    assertThatThrownBy(() -> Sluice.init(config))
        .isInstanceOf(RuntimeStartupException.class)
        .hasMessageContaining("cluster at " + at(plain) + " refused this driver's cluster token")
        .hasMessageContaining(RpcSecurity.TOKEN_ENV_VAR)
        .hasMessageNotContaining("no Sluice cluster answers")
        .hasMessageNotContaining("start one");
  }

  /** Rule: a plaintext driver and a TLS cluster: the message says TLS. */
  @Test
  void driverWithoutTlsJoiningATlsClusterSaysTls() {
    assertThatThrownBy(() -> Sluice.init(joining(tls).build()))
        .isInstanceOf(RuntimeStartupException.class)
        .hasMessageContaining("requires TLS")
        .hasMessageContaining(".tls(")
        .hasMessageNotContaining("no Sluice cluster answers");
  }

  /** Rule: a TLS driver and a plaintext cluster: the message says TLS. */
  @Test
  void driverWithTlsJoiningAPlaintextClusterSaysTls() {
    SluiceConfig config =
        joining(plain)
            .tls(clusterCerts.nodeCert(), clusterCerts.nodeKey(), clusterCerts.ca())
            .build();

    assertThatThrownBy(() -> Sluice.init(config))
        .isInstanceOf(RuntimeStartupException.class)
        .hasMessageContaining(
            "TLS mismatch: this driver uses TLS but the Sluice cluster at "
                + at(plain)
                + " does not")
        .hasMessageNotContaining("no Sluice cluster answers");
  }

  /** Rule: a driver trusting another CA says TLS and which certificate it refused. */
  @Test
  void driverTrustingAnotherCaSaysTheClusterCertificateWasNotAccepted() {
    SluiceConfig config =
        joining(tls).tls(otherCa.nodeCert(), otherCa.nodeKey(), otherCa.ca()).build();

    assertThatThrownBy(() -> Sluice.init(config))
        .isInstanceOf(RuntimeStartupException.class)
        .hasMessageContaining("TLS handshake with the Sluice cluster at " + at(tls))
        .hasMessageContaining("did not accept the cluster's certificate")
        .hasMessageNotContaining("no Sluice cluster answers");
  }

  /** Rule: a client certificate the cluster does not accept says TLS and client certificate. */
  @Test
  void clientCertificateFromAnotherCaSaysTheClusterRefusedIt() {
    SluiceConfig config =
        joining(tls).tls(otherCa.nodeCert(), otherCa.nodeKey(), clusterCerts.ca()).build();

    assertThatThrownBy(() -> Sluice.init(config))
        .isInstanceOf(RuntimeStartupException.class)
        .hasMessageContaining("TLS handshake with the Sluice cluster at " + at(tls))
        .hasMessageContaining("did not accept this driver's client certificate")
        .hasMessageNotContaining("no Sluice cluster answers");
  }

  /** Rule: a certificate without serverAuth is rejected at init, saying so. */
  @Test
  void certificateWithoutServerAuthIsRejectedAtInit() throws Exception {
    TestCertificates clientOnly =
        TestCertificates.create(
            Files.createDirectories(dir.resolve("client-only")), "ip:127.0.0.1", "clientAuth");
    SluiceConfig config =
        SluiceConfig.builder()
            .numCpus(1)
            .numWorkers(0)
            .tls(clientOnly.nodeCert(), clientOnly.nodeKey(), clientOnly.ca())
            .build();

    assertThatThrownBy(() -> Sluice.init(config))
        .isInstanceOf(RuntimeStartupException.class)
        .hasMessageContaining("cannot serve this process at 127.0.0.1")
        .hasMessageContaining("lacks the serverAuth extended key usage");
  }

  /** Rule: a certificate that does not name the driver's address is rejected at init. */
  @Test
  void certificateWithoutTheAddressInSubjectAltNameIsRejectedAtInit() throws Exception {
    TestCertificates elsewhere =
        TestCertificates.create(
            Files.createDirectories(dir.resolve("elsewhere")),
            "ip:10.1.2.3",
            "serverAuth,clientAuth");
    SluiceConfig config =
        SluiceConfig.builder()
            .numCpus(1)
            .numWorkers(0)
            .tls(elsewhere.nodeCert(), elsewhere.nodeKey(), elsewhere.ca())
            .build();

    assertThatThrownBy(() -> Sluice.init(config))
        .isInstanceOf(RuntimeStartupException.class)
        .hasMessageContaining("subjectAltName does not name 127.0.0.1")
        .hasMessageContaining("IP:10.1.2.3");
  }
}
