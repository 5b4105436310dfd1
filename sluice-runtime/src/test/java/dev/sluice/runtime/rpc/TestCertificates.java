package dev.sluice.runtime.rpc;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away cluster CA and one node certificate signed by it, made with the JDK's {@code
 * keytool} so the tests need neither openssl nor BouncyCastle. The node certificate names 127.0.0.1
 * in subjectAltName (channels dial IP addresses and verify them) and allows both serverAuth and
 * clientAuth, since every process is server and client at once.
 *
 * @param ca the CA certificate (PEM)
 * @param nodeCert the node certificate (PEM)
 * @param nodeKey the node's private key (PEM, PKCS#8)
 */
public record TestCertificates(Path ca, Path nodeCert, Path nodeKey) {
  private static final String PASS = "test-pass";

  /** Generates the CA and node files in {@code dir}. */
  public static TestCertificates create(Path dir) throws IOException, GeneralSecurityException {
    return create(dir, "ip:127.0.0.1", "serverAuth,clientAuth");
  }

  /**
   * Like {@link #create(Path)}, with the node certificate's subjectAltName and extended key usages
   * as given in keytool's syntax (e.g. {@code ip:10.0.0.1}, {@code clientAuth}); null leaves the
   * extension out.
   */
  public static TestCertificates create(Path dir, String san, String extendedKeyUsage)
      throws IOException, GeneralSecurityException {
    Path caStore = dir.resolve("ca.p12");
    Path nodeStore = dir.resolve("node.p12");
    Path csr = dir.resolve("node.csr");
    TestCertificates files =
        new TestCertificates(
            dir.resolve("ca.pem"), dir.resolve("node.pem"), dir.resolve("node.key"));
    keytool(
        "-genkeypair",
        "-alias",
        "ca",
        "-keyalg",
        "EC",
        "-groupname",
        "secp256r1",
        "-dname",
        "CN=sluice-test-ca",
        "-ext",
        "bc:c",
        "-validity",
        "2",
        "-keystore",
        caStore.toString(),
        "-storetype",
        "PKCS12",
        "-storepass",
        PASS);
    keytool(
        "-exportcert",
        "-rfc",
        "-alias",
        "ca",
        "-keystore",
        caStore.toString(),
        "-storepass",
        PASS,
        "-file",
        files.ca().toString());
    keytool(
        "-genkeypair",
        "-alias",
        "node",
        "-keyalg",
        "EC",
        "-groupname",
        "secp256r1",
        "-dname",
        "CN=sluice-test-node",
        "-validity",
        "2",
        "-keystore",
        nodeStore.toString(),
        "-storetype",
        "PKCS12",
        "-storepass",
        PASS);
    keytool(
        "-certreq",
        "-alias",
        "node",
        "-keystore",
        nodeStore.toString(),
        "-storepass",
        PASS,
        "-file",
        csr.toString());
    List<String> gencert =
        new ArrayList<>(
            List.of(
                "-gencert",
                "-rfc",
                "-alias",
                "ca",
                "-keystore",
                caStore.toString(),
                "-storepass",
                PASS,
                "-infile",
                csr.toString(),
                "-outfile",
                files.nodeCert().toString(),
                "-validity",
                "2"));
    if (san != null) {
      gencert.addAll(List.of("-ext", "san=" + san));
    }
    if (extendedKeyUsage != null) {
      gencert.addAll(List.of("-ext", "eku=" + extendedKeyUsage));
    }
    keytool(gencert.toArray(String[]::new));
    writePrivateKey(nodeStore, "node", files.nodeKey());
    return files;
  }

  private static void writePrivateKey(Path store, String alias, Path out)
      throws IOException, GeneralSecurityException {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      ks.load(in, PASS.toCharArray());
    }
    PrivateKey key = (PrivateKey) ks.getKey(alias, PASS.toCharArray());
    String body =
        Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
            .encodeToString(key.getEncoded());
    Files.writeString(
        out,
        "-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n",
        StandardCharsets.US_ASCII);
  }

  private static void keytool(String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IOException("keytool " + String.join(" ", args) + " failed:\n" + output);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while running keytool", e);
    }
  }
}
