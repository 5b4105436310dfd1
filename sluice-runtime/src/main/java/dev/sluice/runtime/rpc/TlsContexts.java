package dev.sluice.runtime.rpc;

import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.io.File;
import javax.net.ssl.SSLException;

/**
 * The server and client TLS contexts of mutual TLS, built once from {@link RpcSecurity.TlsFiles} so
 * that a bad file fails at start-up, not on the first connection ({@link TlsFileCheck} says what is
 * wrong with it). Servers require a client certificate signed by the cluster CA; clients present
 * theirs and verify the server's against the same CA and the dialled address.
 */
record TlsContexts(SslContext server, SslContext client) {

  static TlsContexts load(RpcSecurity.TlsFiles files) {
    TlsFileCheck.check(files);
    File cert = files.certChain().toFile();
    File key = files.privateKey().toFile();
    File ca = files.trustedCa().toFile();
    try {
      SslContext server =
          GrpcSslContexts.forServer(cert, key)
              .trustManager(ca)
              .clientAuth(ClientAuth.REQUIRE)
              .build();
      SslContext client =
          GrpcSslContexts.forClient().keyManager(cert, key).trustManager(ca).build();
      return new TlsContexts(server, client);
    } catch (SSLException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "cannot load TLS files " + files + ": " + e.getMessage(), e);
    }
  }
}
