package dev.sluice.runtime.rpc;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad TLS files are refused when the factory is made, with the reason in the message. */
class TlsFileCheckTest {
  private static final int MAX_MESSAGE = 4 << 20;

  @TempDir static Path dir;
  private static TestCertificates a;
  private static TestCertificates b;

  @BeforeAll
  static void makeCertificates() throws Exception {
    a = TestCertificates.create(Files.createDirectories(dir.resolve("a")));
    b = TestCertificates.create(Files.createDirectories(dir.resolve("b")));
  }

  private static RpcSecurity withKey(Path key) {
    return RpcSecurity.token(RpcSecurity.generateToken()).withTls(a.nodeCert(), key, a.ca());
  }

  @Test
  void matchingFilesPass() {
    assertThatCode(
            () -> TlsFileCheck.check(new RpcSecurity.TlsFiles(a.nodeCert(), a.nodeKey(), a.ca())))
        .doesNotThrowAnyException();
  }

  /** Rule: a key of another certificate is refused at once, not at the first handshake. */
  @Test
  void keyOfAnotherCertificateIsRefused() {
    assertThatThrownBy(() -> new RpcFactory(MAX_MESSAGE, withKey(b.nodeKey())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(
            "the TLS key " + b.nodeKey() + " does not belong to the certificate " + a.nodeCert());
  }

  /** Rule: a missing or damaged key file's reason is in the message. */
  @Test
  void missingOrDamagedKeyFilesSayWhy() throws Exception {
    Path missing = dir.resolve("missing.key");
    assertThatThrownBy(() -> new RpcFactory(MAX_MESSAGE, withKey(missing)))
        .hasMessageContaining("the TLS key " + missing + " does not exist");
    Path encrypted =
        Files.writeString(
            dir.resolve("enc.key"),
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n");
    assertThatThrownBy(() -> new RpcFactory(MAX_MESSAGE, withKey(encrypted)))
        .hasMessageContaining("is encrypted");
    String good = Files.readString(a.nodeKey());
    Path truncated =
        Files.writeString(
            dir.resolve("truncated.key"), good.substring(0, 60) + "\n-----END PRIVATE KEY-----\n");
    assertThatThrownBy(() -> new RpcFactory(MAX_MESSAGE, withKey(truncated)))
        .hasMessageContaining("cannot be decoded as the EC key of its certificate");
    assertThatThrownBy(() -> new RpcFactory(MAX_MESSAGE, withKey(a.nodeCert())))
        .hasMessageContaining("holds no PEM private key")
        .hasMessageContaining("it is a certificate");
  }
}
