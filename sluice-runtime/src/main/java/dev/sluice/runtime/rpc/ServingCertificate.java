package dev.sluice.runtime.rpc;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * Checks, before a process starts serving, that its TLS certificate can serve at the address it
 * advertises: every Sluice process is a server too (a driver owns objects and tasks that workers
 * call back about), and its peers verify its certificate against that address and for the
 * serverAuth usage. A certificate that fails either check would only show up later, as calls to
 * this process failing (an owner that seems to have died); this check fails at start-up instead and
 * says what the certificate lacks. Stateless and thread-safe.
 */
public final class ServingCertificate {
  private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
  private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
  private static final String ANY_USAGE = "2.5.29.37.0";
  private static final int SAN_DNS = 2;
  private static final int SAN_IP = 7;

  private ServingCertificate() {}

  /**
   * Checks that the first certificate of {@code files.certChain()} allows serverAuth and clientAuth
   * and names {@code host} (an IP address or host name) in subjectAltName.
   *
   * @throws IllegalArgumentException naming the file, the host and what is missing
   */
  public static void check(RpcSecurity.TlsFiles files, String host) {
    X509Certificate cert = read(files);
    List<String> problems = new ArrayList<>();
    List<String> usages;
    try {
      usages = cert.getExtendedKeyUsage();
    } catch (CertificateParsingException e) {
      throw new IllegalArgumentException(
          "cannot read the extended key usages of TLS certificate "
              + files.certChain()
              + ": "
              + e.getMessage(),
          e);
    }
    if (usages != null && !usages.contains(ANY_USAGE)) {
      if (!usages.contains(SERVER_AUTH)) {
        problems.add(
            "it lacks the serverAuth extended key usage (other processes of the cluster"
                + " connect to this one)");
      }
      if (!usages.contains(CLIENT_AUTH)) {
        problems.add("it lacks the clientAuth extended key usage");
      }
    }
    List<String> names = subjectAltNames(cert, files);
    if (!names(host, cert, files)) {
      problems.add(
          "its subjectAltName does not name "
              + host
              + ", the address peers dial"
              + " (it names "
              + (names.isEmpty() ? "nothing" : String.join(", ", names))
              + ")");
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(
          "the TLS certificate "
              + files.certChain()
              + " cannot serve this process at "
              + host
              + ": "
              + String.join("; ", problems)
              + ". Issue one with subjectAltName "
              + (isIpLiteral(host) ? "IP:" : "DNS:")
              + host
              + " and the extended key usages serverAuth and clientAuth, signed by the cluster's CA");
    }
  }

  private static X509Certificate read(RpcSecurity.TlsFiles files) {
    try (InputStream in = Files.newInputStream(files.certChain())) {
      Collection<? extends Certificate> certs =
          CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (certs.isEmpty() || !(certs.iterator().next() instanceof X509Certificate first)) {
        throw new IllegalArgumentException(
            "the TLS certificate file " + files.certChain() + " holds no X.509 certificate");
      }
      return first;
    } catch (IOException | CertificateException e) {
      throw new IllegalArgumentException(
          "cannot read the TLS certificate " + files.certChain() + ": " + e.getMessage(), e);
    }
  }

  private static boolean names(String host, X509Certificate cert, RpcSecurity.TlsFiles files) {
    Collection<List<?>> sans = rawNames(cert, files);
    if (isIpLiteral(host)) {
      byte[] wanted = ipBytes(host);
      for (List<?> san : sans) {
        if (((Integer) san.get(0)) == SAN_IP
            && isIpLiteral(String.valueOf(san.get(1)))
            && Arrays.equals(wanted, ipBytes(String.valueOf(san.get(1))))) {
          return true;
        }
      }
      return false;
    }
    String h = host.toLowerCase(Locale.ROOT);
    for (List<?> san : sans) {
      if (((Integer) san.get(0)) == SAN_DNS && dnsMatches(String.valueOf(san.get(1)), h)) {
        return true;
      }
    }
    return false;
  }

  private static boolean dnsMatches(String pattern, String host) {
    String p = pattern.toLowerCase(Locale.ROOT);
    if (p.startsWith("*.")) {
      int dot = host.indexOf('.');
      return dot > 0 && host.substring(dot).equals(p.substring(1));
    }
    return p.equals(host);
  }

  private static List<String> subjectAltNames(X509Certificate cert, RpcSecurity.TlsFiles files) {
    List<String> out = new ArrayList<>();
    for (List<?> san : rawNames(cert, files)) {
      int type = (Integer) san.get(0);
      if (type == SAN_IP || type == SAN_DNS) {
        out.add((type == SAN_IP ? "IP:" : "DNS:") + san.get(1));
      }
    }
    return out;
  }

  private static Collection<List<?>> rawNames(X509Certificate cert, RpcSecurity.TlsFiles files) {
    try {
      Collection<List<?>> sans = cert.getSubjectAlternativeNames();
      return sans == null ? List.of() : sans;
    } catch (CertificateParsingException e) {
      throw new IllegalArgumentException(
          "cannot read the subjectAltName of TLS certificate "
              + files.certChain()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  private static boolean isIpLiteral(String host) {
    return host.indexOf(':') >= 0 || host.chars().allMatch(c -> c == '.' || Character.isDigit(c));
  }

  private static byte[] ipBytes(String literal) {
    try {
      return InetAddress.getByName(literal).getAddress();
    } catch (UnknownHostException e) {
      return new byte[0];
    }
  }
}
