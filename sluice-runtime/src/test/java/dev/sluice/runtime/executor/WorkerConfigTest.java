package dev.sluice.runtime.executor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.NodeId;
import dev.sluice.WorkerId;
import dev.sluice.runtime.rpc.RpcSecurity;
import dev.sluice.runtime.worker.WorkerMain;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A worker's start-up settings survive the trip to the child process, and the token stays off its
 * command line.
 */
class WorkerConfigTest {
  private static final RpcSecurity TOKEN = RpcSecurity.token(RpcSecurity.generateToken());

  private static WorkerConfig config(RpcSecurity security) {
    return new WorkerConfig(
        WorkerId.random(),
        NodeId.random(),
        "127.0.0.1:4000",
        "127.0.0.1",
        List.of("com.example"),
        1024,
        4 << 20,
        Path.of("/dev/shm/store"),
        1 << 20,
        "127.0.0.1:5000",
        java.time.Duration.ofSeconds(7),
        security,
        Path.of("/tmp/session"),
        false);
  }

  @Test
  void theMainClassTheNodeManagerLaunchesIsTheWorkerEntryPoint() {
    assertThat(WorkerConfig.MAIN_CLASS).isEqualTo(WorkerMain.class.getName());
  }

  @Test
  void tokenTravelsInTheEnvironmentAndNeverOnTheCommandLine() {
    WorkerConfig wc = config(TOKEN);

    assertThat(String.join(" ", wc.toArgs())).doesNotContain(TOKEN.token());
    assertThat(wc.toEnvironment()).containsEntry(RpcSecurity.TOKEN_ENV_VAR, TOKEN.token());
    assertThat(WorkerConfig.parse(wc.toArgs().toArray(String[]::new), wc.toEnvironment()))
        .isEqualTo(wc);
  }

  @Test
  void tlsFilesTravelOnTheCommandLine() {
    WorkerConfig wc =
        config(
            TOKEN.withTls(
                Path.of("/certs/node.pem"), Path.of("/certs/node.key"), Path.of("/certs/ca.pem")));

    WorkerConfig parsed =
        WorkerConfig.parse(wc.toArgs().toArray(String[]::new), wc.toEnvironment());

    assertThat(parsed.security().tls()).isEqualTo(wc.security().tls());
    assertThat(parsed).isEqualTo(wc);
  }

  @Test
  void workerWithoutTokenInItsEnvironmentRefusesToStart() {
    WorkerConfig wc = config(TOKEN);

    assertThatThrownBy(() -> WorkerConfig.parse(wc.toArgs().toArray(String[]::new), Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(RpcSecurity.TOKEN_ENV_VAR);
  }
}
