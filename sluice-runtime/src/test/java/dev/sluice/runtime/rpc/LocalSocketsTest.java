package dev.sluice.runtime.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.google.protobuf.ByteString;
import dev.sluice.NodeId;
import dev.sluice.WorkerId;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ControlServiceGrpc;
import dev.sluice.runtime.rpc.proto.KvGetReply;
import dev.sluice.runtime.rpc.proto.KvGetRequest;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same-node transport (DESIGN "Security", same-node transport): Unix domain socket servers keep
 * the cluster token check, their socket files are owner-only and removed at shutdown, and a peer is
 * dialled over its socket only when it is on this node and its socket exists.
 */
@Timeout(60)
class LocalSocketsTest {
  private static final int MAX_MESSAGE = 4 << 20;

  @TempDir Path sessionDir;

  private final RpcSecurity security = RpcSecurity.token(RpcSecurity.generateToken());
  private final RpcFactory rpc = new RpcFactory(MAX_MESSAGE, security);
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeEach
  void needsEpoll() {
    assumeThat(LocalSockets.available()).as("epoll transport (Linux)").isTrue();
  }

  @AfterEach
  void closeAll() throws Exception {
    Collections.reverse(toClose);
    for (AutoCloseable c : toClose) {
      c.close();
    }
  }

  /** Answers KvGet with the key as the value. */
  private static final class Echo extends ControlServiceGrpc.ControlServiceImplBase {
    @Override
    public void kvGet(KvGetRequest request, StreamObserver<KvGetReply> reply) {
      reply.onNext(KvGetReply.newBuilder().setFound(true).setValue(request.getKeyBytes()).build());
      reply.onCompleted();
    }
  }

  private Path serve() throws Exception {
    Path socket = LocalSockets.newSocketPath(sessionDir, "test").orElseThrow();
    Server server = rpc.startDomainSocketServer(socket, List.<BindableService>of(new Echo()));
    toClose.add(() -> RpcFactory.shutdownQuietly(server));
    return socket;
  }

  private ManagedChannel track(ManagedChannel ch) {
    toClose.add(() -> RpcFactory.shutdownQuietly(ch));
    return ch;
  }

  private static KvGetReply call(ManagedChannel ch) {
    return ControlServiceGrpc.newBlockingStub(ch)
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .kvGet(KvGetRequest.newBuilder().setKey("k").build());
  }

  @Test
  void callOverTheSocketWithTheClusterTokenSucceeds() throws Exception {
    Path socket = serve();

    assertThat(call(track(rpc.newChannel(LocalSockets.UNIX_PREFIX + socket))).getValue())
        .isEqualTo(ByteString.copyFromUtf8("k"));
  }

  @Test
  void callOverTheSocketWithoutTheTokenIsRefusedAsUnauthenticated() throws Exception {
    Path socket = serve();
    EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    toClose.add(() -> loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).await());
    ManagedChannel noToken =
        track(
            NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(loop)
                .usePlaintext()
                .build());

    assertThatThrownBy(() -> call(noToken))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
  }

  @Test
  void callWithAnotherClustersTokenIsRefusedAsUnauthenticated() throws Exception {
    Path socket = serve();
    RpcFactory stranger =
        new RpcFactory(MAX_MESSAGE, RpcSecurity.token(RpcSecurity.generateToken()));

    assertThatThrownBy(() -> call(track(stranger.newChannel(LocalSockets.UNIX_PREFIX + socket))))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
  }

  @Test
  void socketAndItsDirectoryAreOwnerOnly() throws Exception {
    Path socket = serve();

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)))
        .isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent())))
        .isEqualTo("rwx------");
  }

  @Test
  void socketFileIsRemovedAtShutdown() throws Exception {
    Path socket = LocalSockets.newSocketPath(sessionDir, "test").orElseThrow();
    Server server = rpc.startDomainSocketServer(socket, List.<BindableService>of(new Echo()));
    assertThat(Files.exists(socket, LinkOption.NOFOLLOW_LINKS)).isTrue();

    RpcFactory.shutdownQuietly(server);

    assertThat(Files.exists(socket, LinkOption.NOFOLLOW_LINKS)).isFalse();
  }

  @Test
  void aSocketDirectoryOthersCanEnterIsRefused() throws Exception {
    Files.createDirectory(
        sessionDir.resolve(SocketDirectory.DIRECTORY),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxrwxrwx")));

    assertThatThrownBy(() -> LocalSockets.newSocketPath(sessionDir, "test"))
        .hasMessageContaining("rwx------");
  }

  @Test
  void aSocketPathPastTheKernelLimitMeansTcpOnly() throws Exception {
    Path deep = Files.createDirectories(sessionDir.resolve("d".repeat(100)));

    assertThat(LocalSockets.newSocketPath(deep, "test")).isEmpty();
  }

  @Test
  void aPeerOnThisNodeWithASocketIsDialledOverIt() throws Exception {
    Path socket = serve();
    NodeId node = NodeId.random();
    Address peer = Addresses.of(WorkerId.random(), node, "127.0.0.1", 4000, socket.toString());

    assertThat(LocalSockets.route(peer, node)).isEqualTo("unix:" + socket);
  }

  @Test
  void aPeerOnAnotherNodeIsDialledOverTcpEvenWithASocketPathHere() throws Exception {
    Path socket = serve();
    Address peer =
        Addresses.of(WorkerId.random(), NodeId.random(), "10.0.0.7", 4000, socket.toString());

    assertThat(LocalSockets.route(peer, NodeId.random())).isEqualTo("10.0.0.7:4000");
  }

  @Test
  void aPeerWithoutASocketOrWhoseSocketIsGoneIsDialledOverTcp() throws Exception {
    NodeId node = NodeId.random();
    Address none = Addresses.of(WorkerId.random(), node, "127.0.0.1", 4000);
    Address gone =
        Addresses.of(
            WorkerId.random(), node, "127.0.0.1", 4001, sessionDir.resolve("gone").toString());

    assertThat(LocalSockets.route(none, node)).isEqualTo("127.0.0.1:4000");
    assertThat(LocalSockets.route(gone, node)).isEqualTo("127.0.0.1:4001");
    assertThat(LocalSockets.route(none, null)).isEqualTo("127.0.0.1:4000");
  }

  @Test
  void channelPoolDialsAPeerOfItsNodeOverTheSocketAndFilesItUnderItsTcpTarget() throws Exception {
    Path socket = serve();
    NodeId node = NodeId.random();
    // No TCP server at this port: the call can only succeed over the socket.
    Address peer = Addresses.of(WorkerId.random(), node, "127.0.0.1", 1, socket.toString());
    ChannelPool pool = new ChannelPool(rpc, node);
    toClose.add(pool);

    ManagedChannel ch = pool.get(peer);

    assertThat(call(ch).getFound()).isTrue();
    assertThat(pool.get(Addresses.target(peer))).isSameAs(ch);
  }

  @Test
  void aKilledProcessesLeftoverSocketIsRemovedButNothingOutsideTheSocketDirectory()
      throws Exception {
    Path socket = serve(); // stands for a worker that was killed with its listener open
    Path outside = Files.createFile(sessionDir.resolve("not-a-socket"));

    LocalSockets.removeLeftover(sessionDir, socket.toString());
    LocalSockets.removeLeftover(sessionDir, outside.toString());

    assertThat(Files.exists(socket, LinkOption.NOFOLLOW_LINKS)).isFalse();
    assertThat(outside).exists();
  }
}
