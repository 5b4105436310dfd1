package dev.sluice.runtime.rpc;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;

/**
 * Reads the three files of mutual TLS the way Sluice needs them and says, in one line, what is
 * wrong with the first bad one: a missing file, a certificate file without a certificate, a key
 * that is encrypted or not PKCS#8 (with the command that converts it), a key that cannot be
 * decoded, or a key that does not belong to the certificate. Runs before a process starts (the CLI
 * calls it before launching a node), so the reason reaches the user instead of a later handshake
 * failure or a stack trace in a log. Stateless and thread-safe.
 */
public final class TlsFileCheck {
  private static final String PKCS8_BEGIN = "-----BEGIN PRIVATE KEY-----";
  private static final String PKCS8_END = "-----END PRIVATE KEY-----";
  private static final byte[] PROBE = "sluice key check".getBytes(StandardCharsets.US_ASCII);

  private TlsFileCheck() {}

  /**
   * Checks {@code files}.
   *
   * @throws IllegalArgumentException naming the bad file and the reason
   */
  public static void check(RpcSecurity.TlsFiles files) {
    X509Certificate cert = certificate(files.certChain(), "certificate");
    certificate(files.trustedCa(), "CA certificate");
    PrivateKey key = privateKey(files.privateKey(), cert);
    if (!belongsTo(key, cert)) {
      throw new IllegalArgumentException(
          "the TLS key "
              + files.privateKey()
              + " does not belong"
              + " to the certificate "
              + files.certChain()
              + " ("
              + cert.getSubjectX500Principal()
              + "); pass the key the certificate was issued for");
    }
  }

  private static X509Certificate certificate(Path file, String what) {
    String text = read(file, what);
    try (InputStream in = Files.newInputStream(file)) {
      Collection<? extends Certificate> certs =
          CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (!certs.isEmpty() && certs.iterator().next() instanceof X509Certificate first) {
        return first;
      }
    } catch (IOException | CertificateException e) {
      throw new IllegalArgumentException(
          "the TLS " + what + " " + file + " cannot be read: " + e.getMessage() + pemHint(text), e);
    }
    throw new IllegalArgumentException(
        "the TLS " + what + " " + file + " holds no X.509" + " certificate" + pemHint(text));
  }

  private static PrivateKey privateKey(Path file, X509Certificate cert) {
    String text = read(file, "key");
    String convert =
        "; convert it to unencrypted PKCS#8 with 'openssl pkcs8 -topk8 -nocrypt -in "
            + file
            + " -out KEY.pem'";
    if (text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
      throw new IllegalArgumentException(
          "the TLS key " + file + " is encrypted; Sluice needs an" + " unencrypted key" + convert);
    }
    if (text.contains("-----BEGIN RSA PRIVATE KEY-----")
        || text.contains("-----BEGIN EC PRIVATE KEY-----")) {
      throw new IllegalArgumentException(
          "the TLS key "
              + file
              + " is in the traditional"
              + " (PKCS#1/SEC1) format, not PKCS#8"
              + convert);
    }
    int begin = text.indexOf(PKCS8_BEGIN);
    int end = text.indexOf(PKCS8_END);
    if (begin < 0 || end < begin) {
      throw new IllegalArgumentException(
          "the TLS key "
              + file
              + " holds no PEM private key ("
              + PKCS8_BEGIN
              + " ... "
              + PKCS8_END
              + ")"
              + (text.contains("-----BEGIN CERTIFICATE-----") ? ": it is a certificate" : ""));
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(text.substring(begin + PKCS8_BEGIN.length(), end));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "the TLS key " + file + " is not valid base64: " + e.getMessage(), e);
    }
    String algorithm = cert.getPublicKey().getAlgorithm();
    try {
      return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "the TLS key "
              + file
              + " cannot be decoded as the "
              + algorithm
              + " key of its certificate ("
              + rootMessage(e)
              + "); it may be damaged or"
              + " of another algorithm",
          e);
    }
  }

  private static boolean belongsTo(PrivateKey key, X509Certificate cert) {
    PublicKey pub = cert.getPublicKey();
    String algorithm =
        switch (pub.getAlgorithm()) {
          case "EC" -> "SHA256withECDSA";
          case "RSA" -> "SHA256withRSA";
          case "DSA" -> "SHA256withDSA";
          case "Ed25519", "Ed448", "EdDSA" -> pub.getAlgorithm();
          default -> null;
        };
    if (algorithm == null) {
      return true;
    }
    try {
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(PROBE);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(pub);
      verifier.update(PROBE);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static String read(Path file, String what) {
    try {
      return Files.readString(file, StandardCharsets.ISO_8859_1);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("the TLS " + what + " " + file + " does not exist", e);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "the TLS " + what + " " + file + " cannot be read: " + e, e);
    }
  }

  private static String pemHint(String text) {
    return text.contains("-----BEGIN") ? "" : " (a PEM file is expected: -----BEGIN ...)";
  }

  private static String rootMessage(Throwable t) {
    Throwable root = t;
    for (int i = 0; root.getCause() != null && i < 16; i++) {
      root = root.getCause();
    }
    return root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName();
  }
}
