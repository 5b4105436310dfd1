package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.runtime.common.ProcessCommandLine;
import dev.sluice.runtime.daemon.LocalCluster;
import dev.sluice.runtime.daemon.NodeDaemon;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A cluster across network namespaces: the head runs in the root namespace bound to the address of
 * a bridge, and two nodes run in namespaces of their own ({@link NetworkNamespaces}), bound to
 * their own addresses, so that everything between the driver, the head and those nodes crosses a
 * real network: task placement, streamed items and large objects pulled between object stores.
 * Skipped where namespaces cannot be created.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class NetworkNamespaceClusterTest {
  private static final int MIB = 1 << 20;

  private static NetworkNamespaces network;
  private static LocalCluster cluster;

  @BeforeAll
  static void startClusterAcrossNamespaces() {
    network = NetworkNamespaces.createOrSkip(2);
    LocalCluster.Builder builder =
        LocalCluster.builder()
            .nodes(3)
            .cpusPerNode(2)
            .workersPerNode(1)
            .headBindHost(network.bridgeAddress());
    for (int i = 0; i < 2; i++) {
      NetworkNamespaces.Namespace ns = network.namespace(i);
      builder.nodeNetwork(i + 1, ns.address(), ns.execPrefix());
    }
    cluster = builder.start();
    SluiceTestSupport.start(cluster.driverConfig().build());
  }

  @AfterAll
  static void stopClusterAndDeleteNamespaces() {
    try {
      SluiceTestSupport.stopDriverAndCluster(cluster);
    } finally {
      if (network != null) {
        network.close();
      }
    }
  }

  /** The running node's id and the IPv4 addresses of the network interfaces the task sees. */
  static String nodeAndAddresses(Integer ignored) throws SocketException {
    List<String> addresses = new ArrayList<>();
    for (NetworkInterface nif : NetworkInterface.networkInterfaces().toList()) {
      for (InetAddress a : nif.inetAddresses().toList()) {
        if (a instanceof Inet4Address && !a.isLoopbackAddress()) {
          addresses.add(a.getHostAddress());
        }
      }
    }
    return Sluice.runtimeContext().nodeId().hex() + " " + String.join(",", addresses);
  }

  /** {@code n} items of 1 MiB, each with content of its own. */
  static Iterator<byte[]> megabyteItems(Integer n) {
    return IntStream.range(0, n).mapToObj(NetworkNamespaceClusterTest::item).iterator();
  }

  /** The running node's id and the SHA-256 of {@code data}. */
  static String nodeAndDigest(byte[] data) throws NoSuchAlgorithmException {
    return Sluice.runtimeContext().nodeId().hex() + " " + sha256(data);
  }

  static byte[] item(Integer i) {
    byte[] b = new byte[MIB];
    new Random(1000 + i).nextBytes(b);
    return b;
  }

  static String sha256(byte[] data) throws NoSuchAlgorithmException {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
  }

  private static TaskOptions pinnedTo(LocalCluster.Node node) {
    return TaskOptions.builder().nodeAffinity(node.nodeId(), false).build();
  }

  @Test
  void theDriverAttachesToTheHeadOnTheBridgeAddress() {
    assertThat(cluster.address()).startsWith(network.bridgeAddress() + ":");
    assertThat(Sluice.runtimeContext().nodeId()).isEqualTo(cluster.head().nodeId());
  }

  @Test
  void eachNamespacedNodeIsTheLaunchedDaemonBoundToItsOwnAddress() {
    for (int i = 0; i < 2; i++) {
      LocalCluster.Node node = cluster.nodes().get(i + 1);
      assertThat(node.nodeManagerTarget()).startsWith(network.namespace(i).address() + ":");
      assertThat(ProcessHandle.of(node.pid()).flatMap(p -> ProcessCommandLine.of(p)))
          .as("the pid kill and close signal is the daemon JVM, not 'ip netns exec'")
          .hasValueSatisfying(cmd -> assertThat(cmd).contains(NodeDaemon.class.getName()));
    }
  }

  @Test
  void pinnedTasksRunOnTheirNodeInsideItsNamespace() {
    for (int i = 0; i < 2; i++) {
      LocalCluster.Node node = cluster.nodes().get(i + 1);
      String reply =
          Sluice.task(NetworkNamespaceClusterTest::nodeAndAddresses, i)
              .options(pinnedTo(node))
              .remote()
              .get();
      String[] parts = reply.split(" ", -1);
      assertThat(parts[0]).isEqualTo(node.nodeId().hex());
      assertThat(parts[1])
          .as("the only non-loopback address inside namespace %s", network.namespace(i).name())
          .isEqualTo(network.namespace(i).address());
    }
  }

  @Test
  void aStreamOfMegabyteItemsFromANamespacedNodeArrivesIntact() {
    LocalCluster.Node producer = cluster.nodes().get(2);
    int k = 0;
    try (ObjectRefGenerator<byte[]> gen =
        Sluice.generator(NetworkNamespaceClusterTest::megabyteItems, 8)
            .options(pinnedTo(producer))
            .remote()) {
      for (ObjectRef<byte[]> ref : gen) {
        assertThat(ref.get()).as("item %d", k).isEqualTo(item(k));
        k++;
      }
    }
    assertThat(k).isEqualTo(8);
  }

  @Test
  void aNamespacedTaskPullsALargeArgumentPutByTheDriver() throws Exception {
    byte[] data = new byte[3 * MIB / 2];
    new Random(42).nextBytes(data);
    ObjectRef<byte[]> arg = Sluice.put(data);
    LocalCluster.Node node = cluster.nodes().get(1);
    String reply =
        Sluice.task(NetworkNamespaceClusterTest::nodeAndDigest, arg)
            .options(pinnedTo(node))
            .remote()
            .get();
    assertThat(reply).isEqualTo(node.nodeId().hex() + " " + sha256(data));
  }

  @Test
  void largeResultsMoveBetweenTheTwoNamespaces() throws Exception {
    LocalCluster.Node producer = cluster.nodes().get(1);
    LocalCluster.Node consumer = cluster.nodes().get(2);
    ObjectRef<byte[]> produced =
        Sluice.task(NetworkNamespaceClusterTest::item, 7).options(pinnedTo(producer)).remote();
    String reply =
        Sluice.task(NetworkNamespaceClusterTest::nodeAndDigest, produced)
            .options(pinnedTo(consumer))
            .remote()
            .get();
    assertThat(reply).isEqualTo(consumer.nodeId().hex() + " " + sha256(item(7)));
  }
}
