/**
 * Transport and its security (DESIGN "Security"): {@link RpcFactory} is the one place that makes
 * gRPC servers and channels (Netty over TCP, over Unix domain sockets within a node ({@link
 * LocalSockets}, in the node's {@link SocketDirectory}), or in-process), so that the cluster token
 * ({@link RpcSecurity}, sent by {@link ClusterTokenAttacher}, checked by {@link
 * ClusterTokenCheck}), mutual TLS ({@link TlsContexts}, checked up front by {@link TlsFileCheck}
 * and {@link ServingCertificate}) and message limits apply to every connection alike. {@link
 * ChannelPool} shares one channel per target within a process; {@link ConnectFailure} classifies a
 * failed first call. Same-node lease task streams skip gRPC: {@link FramedConnection} carries the
 * same protobuf messages in {@link FrameCodec} frames over a worker's {@link FramedServer} socket
 * (DESIGN "FramedConnection"), the sending thread writing its own frames and one reader thread per
 * connection calling the inbound observer. The generated protocol classes live in {@code
 * dev.sluice.runtime.rpc.proto}.
 *
 * <p>Threads: calls run on the transport threads ({@code directExecutor}), so every service handler
 * and client callback in the runtime must be short, never block, and hand longer work to a thread
 * of its own (DESIGN "Architecture"). The classes here are immutable or thread-safe.
 *
 * <p>Depends on no other runtime package; every role package depends on it.
 */
package dev.sluice.runtime.rpc;
