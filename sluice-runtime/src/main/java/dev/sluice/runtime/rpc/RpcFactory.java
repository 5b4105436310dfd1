package dev.sluice.runtime.rpc;

import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.util.ResourceLeakDetector;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.ObjLongConsumer;

/**
 * The one place where Sluice makes gRPC servers and channels, so that transport settings,
 * authentication and TLS apply to every connection alike.
 *
 * <p>Security ({@link RpcSecurity}): every server refuses calls without the cluster token with
 * {@code UNAUTHENTICATED}, and every channel sends it, in-process ones included. With TLS files,
 * TCP servers require a client certificate from the cluster CA and channels present theirs (mutual
 * TLS); a plaintext peer cannot connect at all. Channels verify the server certificate against the
 * address they dial, usually an IP (no authority override), so each node's certificate must name
 * its address in subjectAltName.
 *
 * <p>Addresses are {@code host:port} for Netty over TCP, {@code unix:/path} for a Unix domain
 * socket of a process on the same node ({@link LocalSockets}: epoll, owner-only socket file,
 * plaintext, the token still checked), or {@code inproc:NAME} for the in-process transport (same
 * services, same code, no sockets). Servers bind to loopback unless a bind host is given.
 *
 * <p>Calls run on the transport threads ({@code directExecutor}): every Sluice service handler and
 * every client callback must be non-blocking and hand longer work to its own thread. That saves two
 * thread hops per call, which is most of a small RPC's latency.
 */
public final class RpcFactory {
  /** Prefix of in-process addresses. */
  public static final String IN_PROCESS_PREFIX = "inproc:";

  /**
   * Initial HTTP/2 flow-control window of every connection (grpc-java tunes it further from there).
   * Object pulls send 4 MiB chunks, and gRPC's 1 MiB default stalls each one for several window
   * updates; credit costs no memory until data arrives.
   */
  static final int FLOW_CONTROL_WINDOW = 8 << 20;

  /** Loopback: the default bind host. */
  public static final String LOOPBACK = "127.0.0.1";

  /** Netty's system property for its buffer leak detection level. */
  static final String LEAK_DETECTION_PROPERTY = "io.grpc.netty.shaded.io.netty.leakDetection.level";

  static {
    // Netty samples one buffer in 128 for leak detection, capturing a stack trace each time: a
    // cost on every small round trip. Off unless asked for (-D of the property above).
    if (System.getProperty(LEAK_DETECTION_PROPERTY) == null) {
      ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
    }
  }

  /**
   * Event loops of every Unix domain socket server and channel of the process (epoll), made on
   * first use; daemon threads, like gRPC's own shared loops for TCP.
   */
  private static final class DomainSocketLoops {
    static final EventLoopGroup BOSS =
        new MultiThreadIoEventLoopGroup(
            1, new DefaultThreadFactory("sluice-uds-boss", true), EpollIoHandler.newFactory());
    static final EventLoopGroup WORKERS =
        new MultiThreadIoEventLoopGroup(
            Runtime.getRuntime().availableProcessors(),
            new DefaultThreadFactory("sluice-uds", true),
            EpollIoHandler.newFactory());
  }

  private final int maxMessageBytes;
  private final RpcSecurity security;
  private final ClusterTokenCheck tokenCheck;
  private final ClusterTokenAttacher tokenAttacher;
  private final TlsContexts tls;

  /** Times the calls of this factory's servers; null: none (see {@link #timingCalls}). */
  private final CallRecorder recorder;

  /** Where a server's call times go: the process's metrics. Must not block. */
  public interface CallRecorder {
    /** The server will serve these methods (full gRPC names): declared before any call. */
    void declare(List<String> methods);

    /** A call of {@code method} was served in {@code nanos} (a streaming one, start to close). */
    void served(String method, long nanos);

    /** A recorder of these two functions. */
    static CallRecorder of(Consumer<List<String>> declare, ObjLongConsumer<String> served) {
      return new CallRecorder() {
        @Override
        public void declare(List<String> methods) {
          declare.accept(methods);
        }

        @Override
        public void served(String method, long nanos) {
          served.accept(method, nanos);
        }
      };
    }
  }

  /**
   * A factory whose servers and channels accept messages up to {@code maxMessageBytes} and are
   * secured by {@code security}.
   *
   * @throws IllegalArgumentException if the TLS files cannot be read or do not fit together
   */
  public RpcFactory(int maxMessageBytes, RpcSecurity security) {
    this.maxMessageBytes = maxMessageBytes;
    this.security = Objects.requireNonNull(security, "security");
    this.tokenCheck = new ClusterTokenCheck(security.token());
    this.tokenAttacher = new ClusterTokenAttacher(security.token());
    this.tls = security.tls().map(TlsContexts::load).orElse(null);
    this.recorder = null;
  }

  private RpcFactory(RpcFactory base, CallRecorder recorder) {
    this.maxMessageBytes = base.maxMessageBytes;
    this.security = base.security;
    this.tokenCheck = base.tokenCheck;
    this.tokenAttacher = base.tokenAttacher;
    this.tls = base.tls;
    this.recorder = recorder;
  }

  /**
   * This factory, whose servers also time every call they serve into {@code recorder} (after the
   * token check: refused calls are not timed).
   */
  public RpcFactory timingCalls(CallRecorder recorder) {
    return new RpcFactory(this, recorder);
  }

  /** The largest message this factory's servers and channels accept. */
  public int maxMessageBytes() {
    return maxMessageBytes;
  }

  /** The security settings, for handing on to processes this one starts. */
  public RpcSecurity security() {
    return security;
  }

  /**
   * Starts a server for {@code services} at {@code bindHost:port} (port 0 picks a free one), or
   * in-process when {@code bindHost} starts with {@link #IN_PROCESS_PREFIX}. The cluster token
   * check runs before {@code interceptors}.
   */
  public Server startServer(
      String bindHost, int port, List<BindableService> services, ServerInterceptor... interceptors)
      throws IOException {
    io.grpc.ServerBuilder<?> builder;
    if (bindHost.startsWith(IN_PROCESS_PREFIX)) {
      builder =
          InProcessServerBuilder.forName(bindHost.substring(IN_PROCESS_PREFIX.length()))
              .maxInboundMessageSize(maxMessageBytes);
    } else {
      NettyServerBuilder netty =
          NettyServerBuilder.forAddress(new InetSocketAddress(bindHost, port))
              .maxInboundMessageSize(maxMessageBytes)
              .initialFlowControlWindow(FLOW_CONTROL_WINDOW)
              .permitKeepAliveTime(5, TimeUnit.SECONDS)
              .permitKeepAliveWithoutCalls(true);
      if (tls != null) {
        netty.sslContext(tls.server());
      }
      builder = netty;
    }
    builder.directExecutor();
    List<String> methods = new ArrayList<>();
    for (BindableService s : services) {
      ServerServiceDefinition definition = s.bindService();
      builder.addService(definition);
      definition.getMethods().stream()
          .filter(m -> m.getMethodDescriptor().getType() == MethodDescriptor.MethodType.UNARY)
          .forEach(m -> methods.add(m.getMethodDescriptor().getFullMethodName()));
    }
    for (ServerInterceptor i : interceptors) {
      builder.intercept(i);
    }
    if (recorder != null) {
      recorder.declare(methods);
      builder.intercept(new ServerCallTiming(recorder));
    }
    // added last so it runs first: no other interceptor sees an unauthenticated call
    builder.intercept(tokenCheck);
    return builder.build().start();
  }

  /**
   * Starts a server for {@code services} on the Unix domain socket {@code socket} (a path from
   * {@link LocalSockets#newSocketPath}), for processes of the same node. Plaintext even with TLS
   * on: the socket file is owner-only inside an owner-only directory, and the cluster token check
   * runs before {@code interceptors} as on every server. {@link #shutdownQuietly(Server)} removes
   * the file.
   */
  public Server startDomainSocketServer(
      Path socket, List<BindableService> services, ServerInterceptor... interceptors)
      throws IOException {
    Files.deleteIfExists(socket); // left by a process that died with this name's pid
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .channelType(EpollServerDomainSocketChannel.class)
            .withChildOption(ChannelOption.SO_KEEPALIVE, null) // as in newChannel
            .bossEventLoopGroup(DomainSocketLoops.BOSS)
            .workerEventLoopGroup(DomainSocketLoops.WORKERS)
            .maxInboundMessageSize(maxMessageBytes)
            .initialFlowControlWindow(FLOW_CONTROL_WINDOW)
            .directExecutor();
    for (BindableService s : services) {
      builder.addService(s);
    }
    for (ServerInterceptor i : interceptors) {
      builder.intercept(i);
    }
    builder.intercept(tokenCheck);
    Server server = builder.build().start();
    try {
      Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
    } catch (IOException | RuntimeException e) {
      shutdownQuietly(server);
      throw e;
    }
    return server;
  }

  /** A channel to {@code target} ({@code host:port}, {@code unix:/path} or {@code inproc:NAME}). */
  public ManagedChannel newChannel(String target) {
    if (target.startsWith(LocalSockets.UNIX_PREFIX)) {
      return NettyChannelBuilder.forAddress(
              new DomainSocketAddress(target.substring(LocalSockets.UNIX_PREFIX.length())))
          .channelType(EpollDomainSocketChannel.class)
          .eventLoopGroup(DomainSocketLoops.WORKERS)
          // TCP keepalive means nothing on a Unix socket: unset, Netty warns on every connect
          .withOption(ChannelOption.SO_KEEPALIVE, null)
          .usePlaintext()
          .initialFlowControlWindow(FLOW_CONTROL_WINDOW)
          .intercept(tokenAttacher)
          .directExecutor()
          .maxInboundMessageSize(maxMessageBytes)
          .build();
    }
    if (target.startsWith(IN_PROCESS_PREFIX)) {
      return InProcessChannelBuilder.forName(target.substring(IN_PROCESS_PREFIX.length()))
          .directExecutor()
          .maxInboundMessageSize(maxMessageBytes)
          .intercept(tokenAttacher)
          .build();
    }
    int colon = target.lastIndexOf(':');
    NettyChannelBuilder builder =
        NettyChannelBuilder.forAddress(
            target.substring(0, colon), Integer.parseInt(target.substring(colon + 1)));
    if (tls != null) {
      builder.sslContext(tls.client());
    } else {
      builder.usePlaintext();
    }
    return builder
        .initialFlowControlWindow(FLOW_CONTROL_WINDOW)
        .intercept(tokenAttacher)
        .directExecutor()
        .maxInboundMessageSize(maxMessageBytes)
        .keepAliveTime(10, TimeUnit.SECONDS)
        .keepAliveTimeout(5, TimeUnit.SECONDS)
        .keepAliveWithoutCalls(true)
        .build();
  }

  /**
   * Shuts a server down, waiting briefly for calls in flight; a Unix domain socket server's file is
   * removed.
   */
  public static void shutdownQuietly(Server server) {
    if (server == null) {
      return;
    }
    List<? extends SocketAddress> listening;
    try {
      listening = server.getListenSockets();
    } catch (IllegalStateException alreadyTerminated) {
      return; // closed before: nothing left to shut down or remove
    }
    server.shutdown();
    try {
      if (!server.awaitTermination(2, TimeUnit.SECONDS)) {
        server.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    } finally {
      for (SocketAddress a : listening) {
        if (a instanceof DomainSocketAddress socket) {
          try {
            Files.deleteIfExists(Path.of(socket.path()));
          } catch (IOException e) {
            // the session directory's removal takes it
          }
        }
      }
    }
  }

  /** Shuts a channel down, waiting briefly for calls in flight. */
  public static void shutdownQuietly(ManagedChannel channel) {
    if (channel == null) {
      return;
    }
    channel.shutdownNow();
    try {
      channel.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
