package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.runtime.control.ControlService;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.RpcSecurity;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code sluice start} with TLS: bad files are refused with their reason, hints carry flags. */
@Timeout(120)
class StartTlsTest {
  @TempDir static Path dir;
  private static Path cert;
  private static Path key;

  /** A self-signed certificate (a valid PEM file to pair with bad keys). */
  @BeforeAll
  static void makeCertificate() throws Exception {
    Path store = dir.resolve("self.p12");
    cert = dir.resolve("self.pem");
    keytool(
        "-genkeypair",
        "-alias",
        "self",
        "-keyalg",
        "EC",
        "-groupname",
        "secp256r1",
        "-dname",
        "CN=sluice-cli-test",
        "-validity",
        "2",
        "-keystore",
        store.toString(),
        "-storetype",
        "PKCS12",
        "-storepass",
        "test-pass");
    keytool(
        "-exportcert",
        "-rfc",
        "-alias",
        "self",
        "-keystore",
        store.toString(),
        "-storepass",
        "test-pass",
        "-file",
        cert.toString());
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      ks.load(in, "test-pass".toCharArray());
    }
    Key k = ks.getKey("self", "test-pass".toCharArray());
    key =
        Files.writeString(
            dir.resolve("self.key"),
            "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(k.getEncoded())
                + "\n-----END PRIVATE KEY-----\n",
            StandardCharsets.US_ASCII);
  }

  private static void keytool(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IOException("keytool failed:\n" + output);
    }
  }

  private static CliRun startHead(Path key) {
    return CliRun.of(
        dir.resolve("sessions"),
        "start",
        "--head",
        "--port",
        "0",
        "--num-workers",
        "0",
        "--tls",
        "--tls-cert",
        cert.toString(),
        "--tls-key",
        key.toString(),
        "--tls-ca",
        cert.toString());
  }

  /** Rule: a bad key file's reason is in what {@code sluice start} prints. */
  @Test
  void keyInTraditionalFormatIsRefusedWithTheReasonAndHowToConvertIt() throws IOException {
    Path key =
        Files.writeString(
            dir.resolve("rsa.key"),
            "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cn\n"
                + "-----END RSA PRIVATE KEY-----\n");

    CliRun run = startHead(key);

    assertThat(run.code()).as(run.toString()).isEqualTo(1);
    assertThat(run.err())
        .contains("the TLS key " + key)
        .contains("not PKCS#8")
        .contains("openssl pkcs8 -topk8 -nocrypt");
    assertThat(run.out()).doesNotContain("Started head node");
  }

  /** Rule: a key file without a key says so, in the lines {@code sluice start} prints. */
  @Test
  void keyFileWithoutAKeyIsRefusedWithTheReason() throws IOException {
    Path key = Files.writeString(dir.resolve("empty.key"), "nothing here\n");

    CliRun run = startHead(key);

    assertThat(run.code()).as(run.toString()).isEqualTo(1);
    assertThat(run.err()).contains("the TLS key " + key + " holds no PEM private key");
  }

  /** Rule: {@code sluice status} with TLS against a plaintext cluster says TLS. */
  @Test
  void statusWithTlsAgainstAPlaintextClusterSaysTls() throws Exception {
    try (ControlService plain =
        ControlService.start(
            new RpcFactory(4 << 20, RpcSecurity.token(RpcSecurity.generateToken())),
            RpcFactory.LOOPBACK,
            0,
            Duration.ofSeconds(30))) {
      String address = RpcFactory.LOOPBACK + ":" + plain.port();

      CliRun run =
          CliRun.of(
              dir.resolve("sessions"),
              "status",
              "--address",
              address,
              "--tls",
              "--tls-cert",
              cert.toString(),
              "--tls-key",
              key.toString(),
              "--tls-ca",
              cert.toString());

      assertThat(run.code()).as(run.toString()).isEqualTo(1);
      assertThat(run.err())
          .contains("TLS handshake with the cluster at " + address + " failed")
          .contains("uses TLS (--tls) but the cluster does not")
          .doesNotContain("no Sluice cluster answers");
    }
  }

  /** Rule: the head's hints carry the TLS flags and the session root it was started with. */
  @Test
  void hintsOfATlsHeadWithItsOwnRootCarryTheFlags() {
    Path root = Path.of("/srv/sluice sessions");
    RpcSecurity.TlsFiles tls =
        new RpcSecurity.TlsFiles(
            Path.of("/etc/sluice/node.pem"),
            Path.of("/etc/sluice/node.key"),
            Path.of("/etc/sluice/ca.pem"));
    String flags =
        " --tls --tls-cert /etc/sluice/node.pem --tls-key /etc/sluice/node.key"
            + " --tls-ca /etc/sluice/ca.pem";

    List<String> lines =
        new StartHints("10.0.0.5:6380", "tok", Path.of("/t"), root, false, tls).lines();

    assertThat(lines)
        .contains(
            "  SLUICE_CLUSTER_TOKEN=tok bin/sluice start --address 10.0.0.5:6380" + flags,
            "(on this machine the token is read from /t)",
            "To add a node on this machine:  bin/sluice start --address 10.0.0.5:6380"
                + " --session-root '/srv/sluice sessions'"
                + flags,
            "Show the cluster:  bin/sluice status --address 10.0.0.5:6380"
                + " --session-root '/srv/sluice sessions'"
                + flags,
            "Stop the nodes started on this machine:  bin/sluice stop"
                + " --session-root '/srv/sluice sessions'");
    assertThat(lines)
        .anySatisfy(
            l ->
                assertThat(l)
                    .contains(
                        "SluiceConfig.builder().address(\"10.0.0.5:6380\")"
                            + ".sessionRoot(Path.of(\"/srv/sluice sessions\"))"
                            + ".tls(Path.of(\"/etc/sluice/node.pem\"), Path.of(\"/etc/sluice/node.key\"),"
                            + " Path.of(\"/etc/sluice/ca.pem\"))"));
  }

  /** Rule: a plain head on the default root prints the join line scripts rely on, unchanged. */
  @Test
  void hintsOfAPlainHeadOnTheDefaultRootAreThePlainCommands() {
    List<String> lines =
        new StartHints("10.0.0.5:6380", "tok", Path.of("/t"), Path.of("/r"), true, null).lines();

    assertThat(lines)
        .contains(
            "  SLUICE_CLUSTER_TOKEN=tok bin/sluice start --address 10.0.0.5:6380",
            "Show the cluster:  bin/sluice status --address 10.0.0.5:6380",
            "Stop the nodes started on this machine:  bin/sluice stop");
  }
}
