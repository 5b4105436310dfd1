package dev.sluice.runtime.objectmanager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.ObjectId;
import dev.sluice.ObjectLostException;
import dev.sluice.TaskId;
import dev.sluice.WorkerId;
import dev.sluice.runtime.control.ControlService;
import dev.sluice.runtime.node.NodeConfig;
import dev.sluice.runtime.node.NodeManager;
import dev.sluice.runtime.objectstore.SharedMemoryClient;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.SharedMemoryLocation;
import dev.sluice.runtime.storerpc.ObjectStoreRpcClient;
import dev.sluice.runtime.storerpc.StoreLocations;
import io.grpc.ManagedChannel;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two node managers in one JVM, each with its own shared-memory store: objects written on node B
 * are read on node A through A's object manager, which pulls them from B; and B's store, short of
 * room, has A's processes (where owners of its objects may run) collect garbage.
 */
@Timeout(120)
class ObjectTransferTest {
  private static final long MIB = 1 << 20;
  private static final long STORE_BYTES = 160 * MIB;
  private static final TaskId TASK = TaskId.forChild(TaskId.forDriver(JobId.of(7)), 1);

  @TempDir Path tmp;

  private final RpcFactory rpc =
      new RpcFactory(
          64 << 20,
          dev.sluice.runtime.rpc.RpcSecurity.token(
              dev.sluice.runtime.rpc.RpcSecurity.generateToken()));
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final Map<NodeManager, NodeId> nodeIds = new HashMap<>();
  private Path shm;
  private ControlService control;

  @BeforeEach
  void startControl() throws Exception {
    shm = Path.of("/dev/shm", "sluice-transfer-test-" + UUID.randomUUID());
    Files.createDirectories(shm);
    control = ControlService.start(rpc, RpcFactory.LOOPBACK, 0, Duration.ofSeconds(30));
  }

  @AfterEach
  void stopAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
    control.close();
    try (Stream<Path> left = Files.list(shm)) {
      assertThat(left).as("store files left in " + shm).isEmpty();
    }
    Files.delete(shm);
  }

  private NodeManager node(String name, long maxInFlightBytes) {
    return node(name, maxInFlightBytes, false);
  }

  /**
   * A node manager; {@code dataChannel} turns on the plain TCP data channel (the other tests keep
   * it off, so they test the gRPC chunk path used with TLS).
   */
  private NodeManager node(String name, long maxInFlightBytes, boolean dataChannel) {
    NodeId id = NodeId.random();
    NodeManager nm =
        NodeManager.start(
            new NodeConfig(
                id,
                RpcFactory.LOOPBACK,
                0,
                RpcFactory.LOOPBACK + ":" + control.port(),
                Map.of("CPU", 1.0),
                0,
                List.of(),
                List.of(),
                tmp.resolve(name),
                Duration.ofSeconds(30),
                List.of(),
                100 << 10,
                rpc.maxMessageBytes(),
                Duration.ofSeconds(1),
                STORE_BYTES,
                shm,
                false,
                Duration.ZERO,
                dataChannel,
                maxInFlightBytes,
                0),
            rpc);
    toClose.add(nm);
    nodeIds.put(nm, id);
    return nm;
  }

  private NodeManager node(String name) {
    return node(name, ObjectManager.DEFAULT_MAX_IN_FLIGHT_BYTES);
  }

  /** A client of {@code nm}'s store in this process, as an embedded driver has. */
  private SharedMemoryClient client(NodeManager nm) {
    ManagedChannel ch = rpc.newChannel(nm.target());
    toClose.add(() -> RpcFactory.shutdownQuietly(ch));
    SharedMemoryClient c =
        SharedMemoryClient.inProcess(
            nodeId(nm),
            nm.objectStore(),
            new ObjectStoreRpcClient(ch, nodeId(nm), WorkerId.random()),
            nm.target());
    toClose.add(c);
    return c;
  }

  private NodeId nodeId(NodeManager nm) {
    return nodeIds.get(nm);
  }

  private static ObjectId id(int k) {
    return ObjectId.of(TASK, k);
  }

  private static byte[] bytes(long size, int seed) {
    byte[] b = new byte[(int) size];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static SharedMemoryLocation location(
      SharedMemoryClient writer, ObjectId id, byte[] value) {
    return StoreLocations.toProto(writer.write(id, value, true));
  }

  private static void assertHolds(MemorySegment pinned, byte[] expected) {
    assertThat(pinned.byteSize()).isEqualTo(expected.length);
    assertThat(pinned.mismatch(MemorySegment.ofArray(expected))).isEqualTo(-1L);
  }

  private static Address source(SharedMemoryLocation where) {
    return where.getNodeManager().toBuilder().setNodeId(where.getNodeId()).build();
  }

  @Test
  void objectsOfAnotherNodeArePulledIntactIntoTheReadersStore() {
    NodeManager a = node("a");
    NodeManager b = node("b");
    SharedMemoryClient reader = client(a);
    SharedMemoryClient writer = client(b);
    long[] sizes = {64 * MIB + 12345, 1, ObjectManager.MAX_CHUNK_BYTES};
    for (int k = 0; k < sizes.length; k++) {
      byte[] value = bytes(sizes[k], k);
      SharedMemoryLocation where = location(writer, id(k + 1), value);
      assertThat(where.getNodeManager().getPort()).isEqualTo(b.port());

      MemorySegment pinned = reader.pin(id(k + 1), StoreLocations.of(where));
      try {
        assertHolds(pinned, value);
      } finally {
        reader.release(id(k + 1));
      }
      assertThat(a.objectStore().contains(id(k + 1))).isTrue();
    }
    assertThat(b.objectManager().stats().pullsServed()).isEqualTo(sizes.length);
    assertThat(b.objectManager().stats().servingBytes()).isZero();
  }

  @Test
  void concurrentFetchesOfOneObjectShareOnePull() throws Exception {
    NodeManager a = node("a");
    NodeManager b = node("b");
    byte[] value = bytes(32 * MIB + 7, 11);
    SharedMemoryLocation where = location(client(b), id(1), value);

    List<CompletableFuture<Boolean>> fetches = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      fetches.add(a.objectManager().fetch(id(1), source(where), where.getSize()));
    }
    CompletableFuture.allOf(fetches.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);

    assertThat(b.objectManager().stats().pullsServed()).isEqualTo(1);
    assertThat(a.objectManager().stats().pulls()).isEqualTo(1);
    SharedMemoryClient reader = client(a);
    assertHolds(reader.pin(id(1)), value);
    reader.release(id(1));
  }

  @Test
  void inFlightPullBytesStayWithinTheBound() throws Exception {
    long bound = 8 * MIB;
    long size = 20 * MIB;
    NodeManager a = node("a", bound);
    NodeManager b = node("b");
    SharedMemoryClient writer = client(b);
    List<byte[]> values = new ArrayList<>();
    List<CompletableFuture<Boolean>> fetches = new ArrayList<>();
    for (int k = 1; k <= 4; k++) {
      byte[] value = bytes(size + k, k);
      values.add(value);
      SharedMemoryLocation where = location(writer, id(k), value);
      fetches.add(a.objectManager().fetch(id(k), source(where), where.getSize()));
    }
    CompletableFuture.allOf(fetches.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);

    long largest = size + 4;
    assertThat(b.objectManager().stats().pullsServed()).isEqualTo(4);
    assertThat(b.objectManager().stats().peakServingBytes())
        .isBetween(size, Math.max(bound, largest));
    assertThat(a.objectManager().stats().peakInFlightBytes())
        .isBetween(size, Math.max(bound, largest));
    assertThat(a.objectManager().stats().inFlightBytes()).isZero();
    SharedMemoryClient reader = client(a);
    for (int k = 1; k <= 4; k++) {
      assertHolds(reader.pin(id(k)), values.get(k - 1));
      reader.release(id(k));
    }
  }

  @Test
  void anObjectTheSourceDoesNotHaveIsLostNamingObjectAndSourceNode() {
    NodeManager a = node("a");
    NodeManager b = node("b");
    SharedMemoryClient reader = client(a);
    SharedMemoryLocation nowhere =
        SharedMemoryLocation.newBuilder()
            .setNodeId(Addresses.ofNodeManager(nodeId(b), b.target()).getNodeId())
            .setNodeManager(Addresses.ofNodeManager(nodeId(b), b.target()))
            .setSize(4321)
            .setRawBytes(true)
            .build();

    assertThatThrownBy(() -> reader.pin(id(9), StoreLocations.of(nowhere)))
        .isInstanceOf(ObjectLostException.class)
        .hasMessageContaining(id(9).toString())
        .hasMessageContaining("is not in the object store of node " + nodeId(b));
    assertThat(a.objectStore().usage().objects()).isZero();
    assertThat(a.objectStore().usage().used()).isZero();
  }

  @Test
  void aSourceClosedMidPullFailsTheFetchAndLeavesNoPartialObject() throws Exception {
    NodeManager a = node("a");
    NodeManager b = node("b");
    byte[] value = bytes(64 * MIB + 12345, 3);
    SharedMemoryLocation where = location(client(b), id(1), value);
    long usedBefore = a.objectStore().usage().used();
    CountDownLatch firstChunk = new CountDownLatch(1);
    CountDownLatch sourceClosed = new CountDownLatch(1);
    AtomicBoolean held = new AtomicBoolean();
    a.objectManager()
        .onChunkWritten(
            written -> {
              if (held.compareAndSet(false, true)) {
                firstChunk.countDown();
                try {
                  sourceClosed.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }
            });

    CompletableFuture<Boolean> fetch =
        a.objectManager().fetch(id(1), source(where), where.getSize());
    assertThat(firstChunk.await(30, TimeUnit.SECONDS)).isTrue();
    assertThat(a.objectStore().usage().used()).isGreaterThan(usedBefore);
    b.close();
    sourceClosed.countDown();

    assertThatThrownBy(() -> fetch.get(30, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(ObjectTransferException.class)
        .hasMessageContaining(id(1).toString())
        .hasMessageContaining("node " + nodeId(b));
    assertThat(((ObjectTransferException) fetch.exceptionNow()).kind())
        .isEqualTo(ObjectTransferException.Kind.UNAVAILABLE);
    assertThat(a.objectStore().contains(id(1))).isFalse();
    assertThat(a.objectStore().usage().used()).isEqualTo(usedBefore);
    assertThat(a.objectStore().usage().objects()).isZero();
    assertThatThrownBy(() -> client(a).pin(id(1), StoreLocations.of(where)))
        .isInstanceOf(ObjectLostException.class)
        .hasMessageContaining(id(1).toString())
        .hasMessageContaining("node " + nodeId(b));
  }

  @Test
  void objectsArePulledIntactOverTheDataChannelOnceTheSourceIsInTheClusterView() throws Exception {
    NodeManager a = node("a", ObjectManager.DEFAULT_MAX_IN_FLIGHT_BYTES, true);
    NodeManager b = node("b", ObjectManager.DEFAULT_MAX_IN_FLIGHT_BYTES, true);
    byte[] value = bytes(64 * MIB + 12345, 5);
    SharedMemoryLocation where = location(client(b), id(1), value);
    // a learns b's data port from the control service with its next heartbeat.
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> a.clusterNode(where.getNodeId()) != null);
    a.objectManager().fetch(id(1), source(where), where.getSize()).get(60, TimeUnit.SECONDS);
    assertHolds(client(a).pin(id(1)), value);
    assertThat(b.objectManager().stats().pullsServedOverDataChannel()).isEqualTo(1);
  }

  @Test
  void theDataChannelServesObjectsOnlyToHoldersOfTheClusterToken() throws Exception {
    NodeManager b = node("b", ObjectManager.DEFAULT_MAX_IN_FLIGHT_BYTES, true);
    byte[] value = bytes(300_000, 9);
    location(client(b), id(1), value);
    assertThat(b.objectDataPort()).isPositive();
    java.net.InetSocketAddress data =
        new java.net.InetSocketAddress(RpcFactory.LOOPBACK, b.objectDataPort());
    try (java.nio.channels.SocketChannel c = java.nio.channels.SocketChannel.open(data)) {
      ObjectDataServer.writeField(c, "not-the-token".getBytes());
      ObjectDataServer.writeField(c, id(1).toBytes());
      java.nio.ByteBuffer answer = java.nio.ByteBuffer.allocate(8);
      int read;
      try {
        read = c.read(answer);
      } catch (java.io.IOException reset) {
        read = -1;
      }
      assertThat(read).as("a wrong token gets no answer, only a closed connection").isEqualTo(-1);
    }
    try (java.nio.channels.SocketChannel c = java.nio.channels.SocketChannel.open(data)) {
      ObjectDataServer.writeField(c, rpc.security().token().getBytes());
      ObjectDataServer.writeField(c, id(1).toBytes());
      java.nio.ByteBuffer size = java.nio.ByteBuffer.allocate(8);
      ObjectDataServer.readFully(c, size);
      assertThat(size.getLong(0)).isEqualTo(value.length);
      java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(value.length);
      ObjectDataServer.readFully(c, bytes);
      assertThat(bytes.array()).isEqualTo(value);
    }
  }

  @Test
  void aStoreShortOfRoomHasProcessesOnOtherNodesCollectGarbageToo() throws Exception {
    NodeManager a = node("a");
    NodeManager b = node("b");
    // A driver attached to a: the owner of objects in b's store, as a fake that counts requests.
    java.util.concurrent.atomic.AtomicInteger collections =
        new java.util.concurrent.atomic.AtomicInteger();
    io.grpc.Server driver =
        rpc.startServer(
            RpcFactory.LOOPBACK,
            0,
            List.of(
                new dev.sluice.runtime.rpc.proto.CoreWorkerServiceGrpc.CoreWorkerServiceImplBase() {
                  @Override
                  public void collectGarbage(
                      dev.sluice.runtime.rpc.proto.CollectGarbageRequest req,
                      io.grpc.stub.StreamObserver<dev.sluice.runtime.rpc.proto.CollectGarbageReply>
                          out) {
                    collections.incrementAndGet();
                    out.onNext(
                        dev.sluice.runtime.rpc.proto.CollectGarbageReply.getDefaultInstance());
                    out.onCompleted();
                  }

                  @Override
                  public void workersDied(
                      dev.sluice.runtime.rpc.proto.WorkersDiedRequest req,
                      io.grpc.stub.StreamObserver<dev.sluice.runtime.rpc.proto.WorkersDiedReply>
                          out) {
                    out.onNext(dev.sluice.runtime.rpc.proto.WorkersDiedReply.getDefaultInstance());
                    out.onCompleted();
                  }
                }));
    toClose.add(() -> RpcFactory.shutdownQuietly(driver));
    ManagedChannel toA = rpc.newChannel(a.target());
    toClose.add(() -> RpcFactory.shutdownQuietly(toA));
    dev.sluice.runtime.rpc.proto.NodeManagerServiceGrpc.newBlockingStub(toA)
        .registerDriver(
            dev.sluice.runtime.rpc.proto.RegisterDriverRequest.newBuilder()
                .setDriver(
                    Addresses.of(
                        dev.sluice.WorkerId.random(),
                        nodeId(a),
                        RpcFactory.LOOPBACK,
                        driver.getPort()))
                .build());

    // Fill b's store with objects nobody deletes: the third no longer fits.
    SharedMemoryClient writer = client(b);
    for (int k = 1; k <= 3; k++) {
      writer.write(id(k), bytes(64 * MIB, k), true);
    }

    org.awaitility.Awaitility.await("the driver on node a is asked to collect garbage")
        .atMost(Duration.ofSeconds(30))
        .until(() -> collections.get() > 0);
    assertThat(a.objectStore().usage().used()).as("a's own store is empty").isZero();
  }

  @Test
  void aPulledCopyIsDroppedNotSpilledWhenRoomIsNeededAndPulledAgain() {
    NodeManager a = node("a");
    NodeManager b = node("b");
    SharedMemoryClient reader = client(a);
    byte[] value = bytes(64 * MIB + 12345, 5);
    SharedMemoryLocation where = location(client(b), id(1), value);
    reader.pin(id(1), StoreLocations.of(where));
    reader.release(id(1));

    reader.write(id(2), bytes(64 * MIB, 6), true);
    reader.write(id(3), bytes(64 * MIB, 7), true);

    assertThat(a.objectStore().contains(id(1))).isFalse();
    assertThat(a.objectStore().usage().spilledObjects()).isZero();
    assertThat(a.objectStore().usage().objects()).isEqualTo(2);
    MemorySegment again = reader.pin(id(1), StoreLocations.of(where));
    try {
      assertHolds(again, value);
    } finally {
      reader.release(id(1));
    }
    assertThat(b.objectManager().stats().pullsServed()).isEqualTo(2);
  }
}
