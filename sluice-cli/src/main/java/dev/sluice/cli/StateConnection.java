package dev.sluice.cli;

import dev.sluice.SluiceConfig;
import dev.sluice.SluiceException;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.RpcSecurity;
import dev.sluice.runtime.state.StateClient;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine;

/**
 * The connection of a state command ({@code list}, {@code summary}, {@code timeline}) to a
 * cluster's control service, found as {@code sluice status} finds it (the head started on this
 * machine unless {@code --address} is given), with its token and TLS files. Failures become the
 * same one-line {@link CliException}s as {@code status}'s.
 *
 * <p>Used on the command's thread only.
 */
final class StateConnection {
  private static final Duration DEADLINE = Duration.ofSeconds(30);

  /** What a command does with the cluster's state. */
  interface Action<T> {
    T run(StateClient state) throws IOException;
  }

  private StateConnection() {}

  static <T> T with(
      String address,
      SessionRootOption sessionRoot,
      TlsOptions tls,
      CommandLine cmd,
      Action<T> action)
      throws IOException {
    Path root = sessionRoot.root();
    String target = address != null ? address : StatusCommand.localHead(root);
    String token = StatusCommand.tokenOrNull(root, target);
    RpcSecurity security = RpcSecurity.token(token != null ? token : RpcSecurity.generateToken());
    RpcSecurity.TlsFiles files = tls.files(cmd);
    if (files != null) {
      security = security.withTls(files);
    }
    RpcFactory rpc = new RpcFactory(SluiceConfig.builder().build().maxMessageBytes(), security);
    ManagedChannel channel = rpc.newChannel(target);
    try {
      return action.run(new StateClient(channel, target, DEADLINE));
    } catch (SluiceException e) {
      if (e.getCause() instanceof StatusRuntimeException s) {
        throw StatusCommand.failure(s, root, target, token != null, files != null);
      }
      throw new CliException(e.getMessage(), e);
    } finally {
      RpcFactory.shutdownQuietly(channel);
    }
  }
}
