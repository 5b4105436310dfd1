package dev.sluice.runtime.rpc;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A certificate must be able to serve at the address its process advertises. */
class ServingCertificateTest {
  @TempDir Path dir;

  private RpcSecurity.TlsFiles files(String name, String san, String eku) throws Exception {
    TestCertificates c =
        TestCertificates.create(Files.createDirectories(dir.resolve(name)), san, eku);
    return new RpcSecurity.TlsFiles(c.nodeCert(), c.nodeKey(), c.ca());
  }

  @Test
  void certificateNamingTheAddressWithBothUsagesServes() throws Exception {
    RpcSecurity.TlsFiles f = files("good", "ip:127.0.0.1,dns:node-1.example.com", null);

    assertThatCode(() -> ServingCertificate.check(f, "127.0.0.1")).doesNotThrowAnyException();
    assertThatCode(() -> ServingCertificate.check(f, "Node-1.example.com"))
        .doesNotThrowAnyException();
  }

  /** Rule: no serverAuth usage is refused before serving, naming the usage. */
  @Test
  void certificateWithoutServerAuthIsRefused() throws Exception {
    RpcSecurity.TlsFiles f = files("client-only", "ip:127.0.0.1", "clientAuth");

    assertThatThrownBy(() -> ServingCertificate.check(f, "127.0.0.1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(f.certChain().toString())
        .hasMessageContaining("lacks the serverAuth extended key usage")
        .hasMessageNotContaining("clientAuth extended key usage");
  }

  /** Rule: a subjectAltName without the process's address is refused, naming both. */
  @Test
  void certificateNotNamingTheAddressIsRefused() throws Exception {
    RpcSecurity.TlsFiles f =
        files("elsewhere", "ip:10.1.2.3,dns:other.example.com", "serverAuth,clientAuth");

    assertThatThrownBy(() -> ServingCertificate.check(f, "127.0.0.1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("does not name 127.0.0.1")
        .hasMessageContaining("IP:10.1.2.3")
        .hasMessageContaining("subjectAltName IP:127.0.0.1");
    assertThatThrownBy(() -> ServingCertificate.check(f, "node-1.example.com"))
        .hasMessageContaining("does not name node-1.example.com");
  }

  @Test
  void certificateWithoutSubjectAltNameIsRefused() throws Exception {
    RpcSecurity.TlsFiles f = files("no-san", null, "serverAuth,clientAuth");

    assertThatThrownBy(() -> ServingCertificate.check(f, "127.0.0.1"))
        .hasMessageContaining("(it names nothing)");
  }
}
