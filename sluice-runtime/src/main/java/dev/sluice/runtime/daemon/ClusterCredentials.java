package dev.sluice.runtime.daemon;

import dev.sluice.RuntimeStartupException;
import dev.sluice.runtime.common.OwnerOnlyFiles;
import dev.sluice.runtime.rpc.RpcSecurity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * Where a cluster's token is kept and found. The head generates the token (unless one is given in
 * {@value RpcSecurity#TOKEN_ENV_VAR}) and writes it, readable by its user only, to {@code <session
 * root>/clusters/<host>_<port>.token}; nodes and drivers on the same machine find it there by the
 * head's address, those on other machines get it in {@value RpcSecurity#TOKEN_ENV_VAR}.
 */
public final class ClusterCredentials {
  private ClusterCredentials() {}

  /** The token file of the cluster whose control service is at {@code controlTarget}. */
  public static Path tokenFile(Path sessionRoot, String controlTarget) {
    return sessionRoot.resolve("clusters").resolve(controlTarget.replace(':', '_') + ".token");
  }

  /** Writes {@code token} for {@code controlTarget}, owner-readable only, atomically. */
  public static void writeToken(Path sessionRoot, String controlTarget, String token)
      throws IOException {
    Path file = tokenFile(sessionRoot, controlTarget);
    OwnerOnlyFiles.createDirectories(file.getParent());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    try {
      Files.createFile(
          tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException e) {
      Files.createFile(tmp);
    }
    Files.writeString(tmp, token, StandardCharsets.US_ASCII);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /** Deletes the token file of {@code controlTarget}, if any. */
  public static void deleteToken(Path sessionRoot, String controlTarget) {
    try {
      Files.deleteIfExists(tokenFile(sessionRoot, controlTarget));
    } catch (IOException e) {
      // a stale token file is harmless: the next head at that address overwrites it
    }
  }

  /**
   * The token to join the cluster at {@code controlTarget}: {@code explicit} if given, else the
   * environment's, else this machine's token file; fails with a message saying how to pass it.
   */
  public static String resolveToken(
      String explicit, Map<String, String> env, Path sessionRoot, String controlTarget) {
    if (explicit != null && !explicit.isBlank()) {
      return explicit;
    }
    String fromEnv = env.get(RpcSecurity.TOKEN_ENV_VAR);
    if (fromEnv != null && !fromEnv.isBlank()) {
      return fromEnv.trim();
    }
    Path file = tokenFile(sessionRoot, controlTarget);
    try {
      if (Files.isReadable(file)) {
        return Files.readString(file, StandardCharsets.US_ASCII).trim();
      }
    } catch (IOException e) {
      throw new RuntimeStartupException(
          "cannot read the cluster token " + file + ": " + e.getMessage(), e);
    }
    throw new RuntimeStartupException(
        "no token for the cluster at "
            + controlTarget
            + ": set "
            + RpcSecurity.TOKEN_ENV_VAR
            + " to the token the head printed (it is in "
            + file
            + " on the head's machine)");
  }
}
