package dev.sluice;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A driver program for {@link OwnerDeathTest}, run as its own JVM: joins the cluster at {@code
 * args[0]} (token from {@code SLUICE_CLUSTER_TOKEN}), puts 10 objects of 1 MiB into its node's
 * store, has node {@code args[1]} produce 3 more of 1 MiB and pull a copy of one put, and keeps
 * referencing all of them. Prints {@code READY}, then reads standard input: on {@code shutdown} it
 * calls {@code Sluice.shutdown()}, prints {@code SHUT DOWN} and waits for the end of its input
 * (still holding the refs); on {@code exit} it exits without shutting down; at the end of its input
 * it exits.
 */
public final class OwnedObjectsDriverMain {
  static final int MIB = 1 << 20;

  /** Held until the process ends, so that nothing is freed by reference counting. */
  static final List<ObjectRef<?>> HELD = new ArrayList<>();

  private OwnedObjectsDriverMain() {}

  static byte[] produce() {
    return new byte[MIB];
  }

  static Integer length(byte[] b) {
    return b.length;
  }

  public static void main(String[] args) throws Exception {
    Sluice.init(SluiceConfig.builder().address(args[0]).build());
    Duration wait = Duration.ofSeconds(120);
    TaskOptions onOther =
        TaskOptions.builder().nodeAffinity(NodeId.fromHex(args[1]), false).build();
    List<ObjectRef<byte[]>> puts = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      puts.add(Sluice.put(new byte[MIB]));
    }
    List<ObjectRef<byte[]>> produced = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      produced.add(Sluice.task(OwnedObjectsDriverMain::produce).options(onOther).remote());
    }
    Sluice.wait(produced, produced.size(), wait);
    int pulled =
        Sluice.task(OwnedObjectsDriverMain::length, puts.get(0))
            .options(onOther)
            .remote()
            .get(wait);
    HELD.addAll(puts);
    HELD.addAll(produced);
    System.out.println("READY " + pulled);
    System.out.flush();
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line = in.readLine();
    if ("shutdown".equals(line)) {
      Sluice.shutdown();
      System.out.println("SHUT DOWN");
      System.out.flush();
      while (in.readLine() != null) {
        // hold the refs until the test lets go
      }
    }
    System.exit(0);
  }
}
