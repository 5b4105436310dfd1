package dev.sluice.cli;

import dev.sluice.runtime.rpc.RpcSecurity;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The hints {@code sluice start --head} prints after the head is up: how to add a node (on another
 * machine and on this one), how to connect a driver, and how to show and stop the cluster. Each
 * command carries what that cluster needs to work as printed: the TLS flags when it runs with TLS
 * and {@code --session-root} when its root is not the default one. Immutable.
 *
 * @param control the head's control service {@code HOST:PORT}
 * @param token the cluster token, or null if it could not be read
 * @param tokenFile the file on this machine that holds the token
 * @param root the session root the head was started with
 * @param defaultRoot whether {@code root} is the default one (then no {@code --session-root})
 * @param tls the TLS files the head was started with, or null
 */
record StartHints(
    String control,
    String token,
    Path tokenFile,
    Path root,
    boolean defaultRoot,
    RpcSecurity.TlsFiles tls) {
  private static final Pattern SHELL_SAFE = Pattern.compile("[A-Za-z0-9_./:=@%+,-]+");

  /** The join, driver, status and stop hints, one printed line each. */
  List<String> lines() {
    List<String> out = new ArrayList<>();
    String rootFlag = rootFlag(root, defaultRoot);
    String tlsFlags = tlsFlags(tls);
    out.add("");
    out.add("To add a node on another machine:");
    out.add(
        "  "
            + RpcSecurity.TOKEN_ENV_VAR
            + "="
            + (token != null ? token : "<the token in " + tokenFile + ">")
            + " bin/sluice start --address "
            + control
            + tlsFlags);
    if (tls != null) {
      out.add(
          "(each machine needs a certificate from the same CA that names its own address;"
              + " change the --tls-cert and --tls-key paths to its files)");
    }
    out.add("(on this machine the token is read from " + tokenFile + ")");
    if (control.startsWith("127.") || control.startsWith("localhost:")) {
      out.add(
          "This head listens on loopback only: for other machines, start it with"
              + " --bind-host set to an address of this machine that they reach.");
    }
    out.add(
        "To add a node on this machine:  bin/sluice start --address "
            + control
            + rootFlag
            + tlsFlags);
    out.add("To connect a driver on a machine with a node:");
    out.add(
        "  Sluice.init(SluiceConfig.builder().address(\""
            + control
            + "\")"
            + (defaultRoot ? "" : ".sessionRoot(Path.of(" + javaString(root) + "))")
            + (tls == null
                ? ""
                : ".tls(Path.of("
                    + javaString(tls.certChain())
                    + "), Path.of("
                    + javaString(tls.privateKey())
                    + "), Path.of("
                    + javaString(tls.trustedCa())
                    + "))")
            + ".build());");
    out.add("");
    out.add("Show the cluster:  bin/sluice status --address " + control + rootFlag + tlsFlags);
    out.add("Stop the nodes started on this machine:  bin/sluice stop" + rootFlag);
    return out;
  }

  /** {@code " --session-root ROOT"}, or nothing for the default root. */
  static String rootFlag(Path root, boolean defaultRoot) {
    return defaultRoot ? "" : " --session-root " + shell(root.toString());
  }

  /** {@code " --tls --tls-cert ... --tls-key ... --tls-ca ..."}, or nothing without TLS. */
  static String tlsFlags(RpcSecurity.TlsFiles tls) {
    return tls == null
        ? ""
        : " --tls --tls-cert "
            + shell(tls.certChain().toString())
            + " --tls-key "
            + shell(tls.privateKey().toString())
            + " --tls-ca "
            + shell(tls.trustedCa().toString());
  }

  /** {@code s} as one shell word: as is when safe, else single-quoted. */
  static String shell(String s) {
    if (SHELL_SAFE.matcher(s).matches()) {
      return s;
    }
    return "'" + s.replace("'", "'\\''") + "'";
  }

  private static String javaString(Path p) {
    return "\"" + p.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
