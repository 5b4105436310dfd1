package dev.sluice.runtime.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.runtime.control.ControlService;
import dev.sluice.runtime.rpc.proto.ControlServiceGrpc;
import dev.sluice.runtime.rpc.proto.GetAllNodesReply;
import dev.sluice.runtime.rpc.proto.GetAllNodesRequest;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Servers and channels from {@link RpcFactory} authenticate with the cluster token and TLS. */
@Timeout(60)
class RpcSecurityTest {
  private static final int MAX_MESSAGE = 4 << 20;

  @TempDir static Path certDir;
  private static TestCertificates certs;

  private final RpcSecurity security = RpcSecurity.token(RpcSecurity.generateToken());
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeAll
  static void makeCertificates() throws Exception {
    certs = TestCertificates.create(certDir);
  }

  @AfterEach
  void closeAll() throws Exception {
    Collections.reverse(toClose);
    for (AutoCloseable c : toClose) {
      c.close();
    }
  }

  private RpcSecurity tls() {
    return security.withTls(certs.nodeCert(), certs.nodeKey(), certs.ca());
  }

  /** Starts a control service (any service will do) and returns the target to dial. */
  private String serve(RpcFactory rpc, String transport) throws Exception {
    String bindHost =
        transport.equals("tcp")
            ? RpcFactory.LOOPBACK
            : RpcFactory.IN_PROCESS_PREFIX + "security-test-" + UUID.randomUUID();
    ControlService service = ControlService.start(rpc, bindHost, 0, Duration.ofSeconds(30));
    toClose.add(service);
    return transport.equals("tcp") ? bindHost + ":" + service.port() : bindHost;
  }

  private ManagedChannel track(ManagedChannel ch) {
    toClose.add(() -> RpcFactory.shutdownQuietly(ch));
    return ch;
  }

  private static GetAllNodesReply call(ManagedChannel ch) {
    return ControlServiceGrpc.newBlockingStub(ch)
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .getAllNodes(GetAllNodesRequest.getDefaultInstance());
  }

  private static void assertRefusedAsUnauthenticated(ManagedChannel ch) {
    assertThatThrownBy(() -> call(ch))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
              assertThat(e.getStatus().getDescription())
                  .startsWith("missing or wrong cluster token;");
            });
  }

  private static void assertConnectionRefused(ManagedChannel ch) {
    assertThatThrownBy(() -> call(ch))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  private ManagedChannel channelWithoutToken(String target) {
    if (target.startsWith(RpcFactory.IN_PROCESS_PREFIX)) {
      return track(
          InProcessChannelBuilder.forName(target.substring(RpcFactory.IN_PROCESS_PREFIX.length()))
              .build());
    }
    int colon = target.lastIndexOf(':');
    return track(
        NettyChannelBuilder.forAddress(
                target.substring(0, colon), Integer.parseInt(target.substring(colon + 1)))
            .usePlaintext()
            .build());
  }

  @ParameterizedTest
  @ValueSource(strings = {"tcp", "inproc"})
  void callWithTheClusterTokenSucceeds(String transport) throws Exception {
    RpcFactory rpc = new RpcFactory(MAX_MESSAGE, security);
    String target = serve(rpc, transport);

    assertThat(call(track(rpc.newChannel(target))).getNodesList()).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"tcp", "inproc"})
  void callWithAnotherClustersTokenIsRefusedAsUnauthenticated(String transport) throws Exception {
    String target = serve(new RpcFactory(MAX_MESSAGE, security), transport);
    RpcFactory stranger =
        new RpcFactory(MAX_MESSAGE, RpcSecurity.token(RpcSecurity.generateToken()));

    assertRefusedAsUnauthenticated(track(stranger.newChannel(target)));
  }

  @ParameterizedTest
  @ValueSource(strings = {"tcp", "inproc"})
  void callWithoutATokenIsRefusedAsUnauthenticated(String transport) throws Exception {
    String target = serve(new RpcFactory(MAX_MESSAGE, security), transport);

    assertRefusedAsUnauthenticated(channelWithoutToken(target));
  }

  @Test
  void tokenIsCheckedBeforeTheServersOwnInterceptorsSeeTheCall() throws Exception {
    AtomicInteger reached = new AtomicInteger();
    ServerInterceptor counting =
        new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            reached.incrementAndGet();
            return next.startCall(call, headers);
          }
        };
    RpcFactory rpc = new RpcFactory(MAX_MESSAGE, security);
    var server =
        rpc.startServer(
            RpcFactory.LOOPBACK,
            0,
            List.of(new ControlServiceGrpc.ControlServiceImplBase() {}),
            counting);
    toClose.add(() -> RpcFactory.shutdownQuietly(server));

    assertRefusedAsUnauthenticated(
        channelWithoutToken(RpcFactory.LOOPBACK + ":" + server.getPort()));
    assertThat(reached).hasValue(0);
  }

  @Test
  void tlsClientWithACertificateFromTheClusterCaSucceeds() throws Exception {
    RpcFactory rpc = new RpcFactory(MAX_MESSAGE, tls());
    String target = serve(rpc, "tcp");

    assertThat(call(track(rpc.newChannel(target))).getNodesList()).isEmpty();
  }

  @Test
  void tlsClientWithoutAClientCertificateIsRefused() throws Exception {
    String target = serve(new RpcFactory(MAX_MESSAGE, tls()), "tcp");
    int colon = target.lastIndexOf(':');
    ManagedChannel noClientCert =
        track(
            NettyChannelBuilder.forAddress(
                    target.substring(0, colon), Integer.parseInt(target.substring(colon + 1)))
                .sslContext(GrpcSslContexts.forClient().trustManager(certs.ca().toFile()).build())
                .intercept(new ClusterTokenAttacher(security.token()))
                .build());

    assertConnectionRefused(noClientCert);
  }

  @Test
  void plaintextClientIsRefusedByATlsServer() throws Exception {
    String target = serve(new RpcFactory(MAX_MESSAGE, tls()), "tcp");
    RpcFactory plaintext = new RpcFactory(MAX_MESSAGE, security);

    assertConnectionRefused(track(plaintext.newChannel(target)));
  }

  @Test
  void tlsDoesNotReplaceTheToken() throws Exception {
    String target = serve(new RpcFactory(MAX_MESSAGE, tls()), "tcp");
    RpcFactory sameCaOtherToken =
        new RpcFactory(
            MAX_MESSAGE,
            RpcSecurity.token(RpcSecurity.generateToken())
                .withTls(certs.nodeCert(), certs.nodeKey(), certs.ca()));

    assertRefusedAsUnauthenticated(track(sameCaOtherToken.newChannel(target)));
  }

  @Test
  void unreadableTlsFilesFailWhenTheFactoryIsMade() {
    RpcSecurity broken =
        security.withTls(certDir.resolve("missing.pem"), certs.nodeKey(), certs.ca());

    assertThatThrownBy(() -> new RpcFactory(MAX_MESSAGE, broken))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("missing.pem");
  }

  @Test
  void generatedTokensAreDistinct256BitSecrets() {
    String a = RpcSecurity.generateToken();
    String b = RpcSecurity.generateToken();

    assertThat(Base64.getUrlDecoder().decode(a)).hasSize(32);
    assertThat(a).isNotEqualTo(b);
  }

  @Test
  void toStringNeverShowsTheToken() {
    assertThat(tls().toString()).doesNotContain(security.token()).contains("redacted");
  }

  @Test
  void tooShortTokensAreRejected() {
    assertThatThrownBy(() -> RpcSecurity.token("secret"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
