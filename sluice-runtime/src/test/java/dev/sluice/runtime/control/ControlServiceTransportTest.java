package dev.sluice.runtime.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.RpcSecurity;
import dev.sluice.runtime.rpc.proto.AddJobRequest;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ControlServiceGrpc;
import dev.sluice.runtime.rpc.proto.ControlServiceGrpc.ControlServiceBlockingStub;
import dev.sluice.runtime.rpc.proto.GetAllNodesRequest;
import dev.sluice.runtime.rpc.proto.KvGetReply;
import dev.sluice.runtime.rpc.proto.KvGetRequest;
import dev.sluice.runtime.rpc.proto.KvPutRequest;
import dev.sluice.runtime.rpc.proto.NodeHeartbeatRequest;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import dev.sluice.runtime.rpc.proto.RegisterNodeRequest;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The same services work over the in-process transport and over Netty/TCP. */
class ControlServiceTransportTest {
  private static final int MAX_MESSAGE = 4 << 20;
  private final RpcFactory rpc =
      new RpcFactory(MAX_MESSAGE, RpcSecurity.token(RpcSecurity.generateToken()));
  private final List<AutoCloseable> toClose = new ArrayList<>();

  /** A started control service and a target string a channel from the same factory can use. */
  private record Started(ControlService service, String target) {}

  private Started start(String transport, Duration nodeTimeout) throws IOException {
    String bindHost =
        switch (transport) {
          case "tcp" -> RpcFactory.LOOPBACK;
          case "inproc" -> RpcFactory.IN_PROCESS_PREFIX + "control-test-" + UUID.randomUUID();
          default -> throw new IllegalArgumentException(transport);
        };
    ControlService cs = ControlService.start(rpc, bindHost, 0, nodeTimeout);
    toClose.add(cs);
    // In-process servers have no port: their target is the same "inproc:NAME" string.
    String target = transport.equals("tcp") ? bindHost + ":" + cs.port() : bindHost;
    if (transport.equals("tcp")) {
      assertThat(cs.port()).isBetween(1, 65535);
    }
    return new Started(cs, target);
  }

  private ControlServiceBlockingStub stub(String target) {
    ManagedChannel ch = rpc.newChannel(target);
    toClose.add(() -> RpcFactory.shutdownQuietly(ch));
    return ControlServiceGrpc.newBlockingStub(ch);
  }

  private static ControlServiceBlockingStub deadline(ControlServiceBlockingStub s) {
    return s.withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void closeAll() throws Exception {
    Collections.reverse(toClose);
    for (AutoCloseable c : toClose) {
      c.close();
    }
    toClose.clear();
  }

  private static NodeInfo node(NodeId id, int port) {
    return NodeInfo.newBuilder()
        .setNodeId(ByteString.copyFrom(id.toBytes()))
        .setNodeManager(
            Address.newBuilder()
                .setNodeId(ByteString.copyFrom(id.toBytes()))
                .setHost("127.0.0.1")
                .setPort(port))
        .putResourcesTotal("CPU", 4.0)
        .build();
  }

  private static Optional<NodeInfo> find(ControlServiceBlockingStub s, NodeId id) {
    return deadline(s).getAllNodes(GetAllNodesRequest.getDefaultInstance()).getNodesList().stream()
        .filter(n -> n.getNodeId().equals(ByteString.copyFrom(id.toBytes())))
        .findFirst();
  }

  private static boolean alive(ControlServiceBlockingStub s, NodeId id) {
    return find(s, id).map(NodeInfo::getAlive).orElse(false);
  }

  private static void heartbeat(ControlServiceBlockingStub s, NodeId id, boolean[] unknown) {
    unknown[0] =
        deadline(s)
            .nodeHeartbeat(
                NodeHeartbeatRequest.newBuilder()
                    .setNodeId(ByteString.copyFrom(id.toBytes()))
                    .putResourcesAvailable("CPU", 4.0)
                    .build())
            .getUnknownNode();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"tcp", "inproc"})
  void registeredNodeIsListedAliveWithItsInfo(String transport) throws IOException {
    Started cs = start(transport, Duration.ofSeconds(30));
    ControlServiceBlockingStub s = stub(cs.target());
    NodeId id = NodeId.random();

    assertThat(find(s, id)).isEmpty();
    deadline(s).registerNode(RegisterNodeRequest.newBuilder().setNode(node(id, 4321)).build());

    NodeInfo listed = find(s, id).orElseThrow();
    assertThat(listed.getAlive()).isTrue();
    assertThat(listed.getResourcesTotalMap()).containsExactlyEntriesOf(Map.of("CPU", 4.0));
    assertThat(listed.getNodeManager().getHost()).isEqualTo("127.0.0.1");
    assertThat(listed.getNodeManager().getPort()).isEqualTo(4321);
    boolean[] unknown = {true};
    heartbeat(s, id, unknown);
    assertThat(unknown[0]).as("heartbeat of a registered node").isFalse();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"tcp", "inproc"})
  void kvPutThenGetRoundTripsBytes(String transport) throws IOException {
    Started cs = start(transport, Duration.ofSeconds(30));
    ControlServiceBlockingStub s = stub(cs.target());
    ByteString value = ByteString.copyFrom(new byte[] {0, 1, 2, (byte) 0xff, 42});

    KvGetReply missing = deadline(s).kvGet(KvGetRequest.newBuilder().setKey("k1").build());
    assertThat(missing.getFound()).isFalse();

    deadline(s).kvPut(KvPutRequest.newBuilder().setKey("k1").setValue(value).build());
    KvGetReply got = deadline(s).kvGet(KvGetRequest.newBuilder().setKey("k1").build());
    assertThat(got.getFound()).isTrue();
    assertThat(got.getValue()).isEqualTo(value);

    deadline(s)
        .kvPut(
            KvPutRequest.newBuilder().setKey("k1").setValue(ByteString.copyFromUtf8("v2")).build());
    assertThat(
            deadline(s)
                .kvGet(KvGetRequest.newBuilder().setKey("k1").build())
                .getValue()
                .toStringUtf8())
        .isEqualTo("v2");

    // A value of several MiB, within the factory's message limit, crosses either transport.
    ByteString big = ByteString.copyFrom(new byte[3 << 20]);
    deadline(s).kvPut(KvPutRequest.newBuilder().setKey("big").setValue(big).build());
    assertThat(deadline(s).kvGet(KvGetRequest.newBuilder().setKey("big").build()).getValue().size())
        .isEqualTo(3 << 20);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"tcp", "inproc"})
  void addJobReturnsIncreasingJobIds(String transport) throws IOException {
    Started cs = start(transport, Duration.ofSeconds(30));
    ControlServiceBlockingStub s = stub(cs.target());
    List<Integer> numbers = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      byte[] id =
          deadline(s)
              .addJob(
                  AddJobRequest.newBuilder()
                      .setDriver(Address.newBuilder().setHost("127.0.0.1").setPort(1000 + i))
                      .build())
              .getJobId()
              .toByteArray();
      assertThat(id).hasSize(JobId.LENGTH);
      numbers.add(JobId.fromBytes(id).number());
    }
    assertThat(numbers).isSorted().doesNotHaveDuplicates();
    assertThat(numbers.getFirst()).isPositive();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"tcp", "inproc"})
  void aNodeThatStopsHeartbeatingIsMarkedDeadAfterTheTimeout(String transport) throws IOException {
    Started cs = start(transport, Duration.ofMillis(500));
    ControlServiceBlockingStub s = stub(cs.target());
    NodeId silent = NodeId.random();
    NodeId beating = NodeId.random();
    deadline(s).registerNode(RegisterNodeRequest.newBuilder().setNode(node(silent, 1)).build());
    deadline(s).registerNode(RegisterNodeRequest.newBuilder().setNode(node(beating, 2)).build());

    ScheduledExecutorService heart = Executors.newSingleThreadScheduledExecutor();
    toClose.add(heart::shutdownNow);
    boolean[] beatingUnknown = {false};
    heart.scheduleAtFixedRate(
        () -> heartbeat(s, beating, beatingUnknown), 0, 100, TimeUnit.MILLISECONDS);

    await("silent node marked dead")
        .atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> !alive(s, silent));
    // The dead node is still listed (as dead), so callers can tell "died" from "never existed".
    assertThat(find(s, silent)).isPresent();

    // A node that keeps heartbeating stays alive well past the timeout.
    await("beating node stays alive")
        .during(Duration.ofMillis(1500))
        .atMost(Duration.ofSeconds(3))
        .until(() -> alive(s, beating));
    assertThat(beatingUnknown[0]).isFalse();

    // A dead node's heartbeat is answered "unknown", and it cannot come back under its id (as
    // in Ray: owners have already failed or retried its work); it must join as a new node.
    boolean[] unknown = {false};
    heartbeat(s, silent, unknown);
    assertThat(unknown[0]).isTrue();
    assertThatThrownBy(
            () ->
                deadline(s)
                    .registerNode(
                        RegisterNodeRequest.newBuilder().setNode(node(silent, 1)).build()))
        .isInstanceOf(io.grpc.StatusRuntimeException.class)
        .hasMessageContaining("FAILED_PRECONDITION")
        .hasMessageContaining("new node");
    assertThat(alive(s, silent)).isFalse();

    // Once it stops too, the other node is marked dead as well.
    heart.shutdownNow();
    await("beating node marked dead once it stops")
        .atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> !alive(s, beating));
  }

  @Test
  void anUnknownNodesHeartbeatIsAnsweredUnknown() throws IOException {
    Started cs = start("inproc", Duration.ofSeconds(30));
    boolean[] unknown = {false};
    heartbeat(stub(cs.target()), NodeId.random(), unknown);
    assertThat(unknown[0]).isTrue();
  }

  @Test
  void tcpServerOnTheDefaultLoopbackHostIsReachableOnLoopbackOnly() throws IOException {
    Started cs = start("tcp", Duration.ofSeconds(30));
    int port = cs.service().port();
    assertThat(RpcFactory.LOOPBACK).isEqualTo("127.0.0.1");

    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
      assertThat(socket.isConnected()).isTrue();
    }

    Optional<InetAddress> external = nonLoopbackAddress();
    Assumptions.assumeTrue(
        external.isPresent(),
        "this machine has no non-loopback IPv4 address; skipping the negative check");
    assertThatThrownBy(
            () -> {
              try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(external.get(), port), 2000);
              }
            })
        .as("connecting to %s:%d", external.get(), port)
        .isInstanceOf(IOException.class);
  }

  private static Optional<InetAddress> nonLoopbackAddress() throws SocketException {
    for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (!nif.isUp() || nif.isLoopback()) {
        continue;
      }
      for (InetAddress a : Collections.list(nif.getInetAddresses())) {
        if (a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress()) {
          return Optional.of(a);
        }
      }
    }
    return Optional.empty();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"tcp", "inproc"})
  void closedServiceRefusesNewCalls(String transport) throws IOException {
    Started cs = start(transport, Duration.ofSeconds(30));
    ControlServiceBlockingStub s = stub(cs.target());
    deadline(s).kvPut(KvPutRequest.newBuilder().setKey("a").build());
    cs.service().close();
    assertThatThrownBy(
            () ->
                s.withDeadlineAfter(2, TimeUnit.SECONDS)
                    .kvGet(KvGetRequest.newBuilder().setKey("a").build()))
        .isInstanceOf(io.grpc.StatusRuntimeException.class);
  }
}
