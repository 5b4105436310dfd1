package dev.sluice.bench;

import com.google.protobuf.UnsafeByteOperations;
import dev.sluice.ObjectBuffer;
import dev.sluice.ObjectRef;
import dev.sluice.ObjectRefGenerator;
import dev.sluice.Sluice;
import dev.sluice.TaskOptions;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.RpcSecurity;
import dev.sluice.runtime.rpc.proto.ControlServiceGrpc;
import dev.sluice.runtime.rpc.proto.KvPutReply;
import dev.sluice.runtime.rpc.proto.KvPutRequest;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Large objects through the node's shared-memory store, each against a same-run peer:
 *
 * <ul>
 *   <li>{@link #memcpy}: {@code System.arraycopy} of the same bytes in one JVM, the ceiling; {@link
 *       #memcpyOwnJvm} the same in a JVM of its own;
 *   <li>{@link #stream}: a stream of 64 MiB items worker → driver; the driver {@code get()}s each
 *       item into a {@code byte[]} (or, zero-copy, sums it in place through {@link
 *       Sluice#getBuffer}) and releases its ref; the producer yields one prebuilt array, so the
 *       time is the runtime's data path: write into shared memory, report, read out;
 *   <li>{@link #freshPlainStream}: the same stream as a user writes it: the producer allocates and
 *       fills a fresh array per item, the consumer only {@code get()}s each item (no {@code
 *       release()});
 *   <li>{@link #putGet}: {@code put} of a 1 GiB array and {@code get} of it back;
 *   <li>{@link #grpcInline}: the same 64 MiB sent inline in one grpc-java unary call over TCP
 *       loopback (the runtime's channel settings), what the store replaces.
 * </ul>
 *
 * Results are GB/s (10^9 bytes per second) of payload moved end to end.
 */
public final class LargeObjectBenchmarks {
  /** Size of a streamed item. */
  public static final int ITEM_BYTES = 64 << 20;

  private LargeObjectBenchmarks() {}

  /** {@code System.arraycopy} of {@code size} bytes, {@code copies} times per round. */
  public static Measurement memcpy(int size, int copies) {
    byte[] src = new byte[size];
    byte[] dst = new byte[size];
    for (int i = 0; i < size; i += 4096) {
      src[i] = (byte) i;
    }
    return new GbMeasurement(
        "memcpy " + (size >> 20) + " MiB (System.arraycopy)",
        (long) size * copies,
        copies + " copies") {
      @Override
      void once() {
        for (int i = 0; i < copies; i++) {
          System.arraycopy(src, 0, dst, 0, size);
        }
      }
    };
  }

  /**
   * {@link #memcpy} run in a JVM of its own (started once, with the JVM's default options, as a
   * user would run it), without Sluice's threads in its process: each round asks it for one round
   * over its stdin and reads the nanoseconds it took from its stdout.
   */
  public static Measurement memcpyOwnJvm(int size, int copies) throws IOException {
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                MemcpyPeer.class.getName(),
                Integer.toString(size),
                Integer.toString(copies))
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    BufferedReader in =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    PrintStream cmd = new PrintStream(p.getOutputStream(), true, StandardCharsets.UTF_8);
    long bytes = (long) size * copies;
    return new Measurement() {
      @Override
      public String name() {
        return "memcpy " + (size >> 20) + " MiB, own JVM (System.arraycopy)";
      }

      @Override
      public Unit unit() {
        return Unit.GB_PER_SECOND;
      }

      @Override
      public void warmUp() throws IOException {
        runRound();
      }

      @Override
      public double runRound() throws IOException {
        cmd.println("round");
        String line = in.readLine();
        if (line == null) {
          throw new IOException("the memcpy peer JVM exited");
        }
        return bytes / (double) Long.parseLong(line.trim());
      }

      @Override
      public String workPerRound() {
        return copies + " copies";
      }

      @Override
      public void close() {
        cmd.close();
        try {
          if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
          }
        } catch (InterruptedException e) {
          p.destroyForcibly();
          Thread.currentThread().interrupt();
        }
      }
    };
  }

  /**
   * The memcpy peer's JVM: {@code main(size, copies)} runs one round of {@code copies} copies of
   * {@code size} bytes per line read from stdin and prints its nanoseconds; it exits at end of
   * input.
   */
  public static final class MemcpyPeer {
    private MemcpyPeer() {}

    /** Runs rounds until stdin ends. */
    public static void main(String[] args) throws IOException {
      int size = Integer.parseInt(args[0]);
      int copies = Integer.parseInt(args[1]);
      byte[] src = new byte[size];
      byte[] dst = new byte[size];
      for (int i = 0; i < size; i += 4096) {
        src[i] = (byte) i;
      }
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      while (in.readLine() != null) {
        long t0 = System.nanoTime();
        for (int i = 0; i < copies; i++) {
          System.arraycopy(src, 0, dst, 0, size);
        }
        System.out.println(System.nanoTime() - t0);
        System.out.flush();
      }
    }
  }

  /**
   * One stream of {@code items} items of {@link #ITEM_BYTES} with backpressure {@code
   * backpressure}; each item's ref is {@link ObjectRef#release released} once read, as a consumer
   * of large items should (else the item stays in shared memory until the driver's garbage
   * collector finds the ref).
   */
  public static Measurement stream(int items, boolean zeroCopy, int backpressure) {
    return stream(items, zeroCopy, backpressure, false, true);
  }

  /**
   * A stream of {@code items} items of {@link #ITEM_BYTES} with backpressure 2 whose producer
   * allocates and fills a fresh array per item ({@link BenchTasks#freshChunks}) and whose consumer
   * is the plain loop: {@code ref.get()} of each item and nothing else, no {@code release()}.
   */
  public static Measurement freshPlainStream(int items) {
    return stream(items, false, 2, true, false);
  }

  /**
   * A stream of {@code items} items: zero-copy or {@code get()}; the producer yields a fresh array
   * per item or one prebuilt array; the consumer releases each ref once read, or leaves it to the
   * garbage collector.
   */
  static Measurement stream(
      int items, boolean zeroCopy, int backpressure, boolean fresh, boolean release) {
    TaskOptions options =
        TaskOptions.builder().generatorBackpressureNumObjects(backpressure).build();
    String name =
        "sluice stream 64 MiB items, "
            + (fresh ? "fresh array per item, " : "")
            + (zeroCopy ? "getBuffer() + read" : release ? "get()" : "plain get() loop")
            + (backpressure == 2 ? "" : ", backpressure " + backpressure);
    return new GbMeasurement(
        name,
        (long) items * ITEM_BYTES,
        "1 stream of " + items + " items, backpressure " + backpressure) {
      long sink;

      @Override
      void once() {
        int n = 0;
        try (ObjectRefGenerator<byte[]> gen =
            (fresh
                    ? Sluice.generator(BenchTasks::freshChunks, items, ITEM_BYTES)
                    : Sluice.generator(BenchTasks::chunks, items, ITEM_BYTES))
                .options(options)
                .remote()) {
          for (ObjectRef<byte[]> ref : gen) {
            if (zeroCopy) {
              try (ObjectBuffer buf = Sluice.getBuffer(ref)) {
                sink += sum(buf.segment());
              }
            } else {
              byte[] b = ref.get();
              sink += b[b.length - 4096];
            }
            if (release) {
              ref.release();
            }
            n++;
          }
        }
        if (n != items) {
          throw new IllegalStateException(name + ": " + n + " items, expected " + items);
        }
      }
    };
  }

  /**
   * Reads every byte (as longs, eight independent sums so the loop runs at memory speed rather than
   * at one add per load): what a consumer of a zero-copy view pays at least.
   */
  static long sum(MemorySegment s) {
    ValueLayout.OfLong word = ValueLayout.JAVA_LONG_UNALIGNED;
    long a0 = 0;
    long a1 = 0;
    long a2 = 0;
    long a3 = 0;
    long a4 = 0;
    long a5 = 0;
    long a6 = 0;
    long a7 = 0;
    long longs = s.byteSize() / 8;
    long i = 0;
    for (; i + 8 <= longs; i += 8) {
      a0 += s.getAtIndex(word, i);
      a1 += s.getAtIndex(word, i + 1);
      a2 += s.getAtIndex(word, i + 2);
      a3 += s.getAtIndex(word, i + 3);
      a4 += s.getAtIndex(word, i + 4);
      a5 += s.getAtIndex(word, i + 5);
      a6 += s.getAtIndex(word, i + 6);
      a7 += s.getAtIndex(word, i + 7);
    }
    for (; i < longs; i++) {
      a0 += s.getAtIndex(word, i);
    }
    for (long b = longs * 8; b < s.byteSize(); b++) {
      a0 += s.get(ValueLayout.JAVA_BYTE, b);
    }
    return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
  }

  /** {@code put} of a {@code size}-byte array, then {@code get} of it, in the driver. */
  public static Measurement putGet(int size) {
    byte[] value = new byte[size];
    for (int i = 0; i < size; i += 4096) {
      value[i] = (byte) i;
    }
    return new GbMeasurement("sluice put + get " + (size >> 20) + " MiB", size, "1 put and 1 get") {
      @Override
      void once() {
        ObjectRef<byte[]> ref = Sluice.put(value);
        byte[] back = ref.get();
        ref.release();
        if (back.length != size || back[4096] != value[4096]) {
          throw new IllegalStateException("put/get returned different bytes");
        }
      }
    };
  }

  /** One grpc-java unary call carrying {@code size} bytes inline, {@code calls} per round. */
  public static Measurement grpcInline(int size, int calls) throws IOException {
    RpcFactory rpc =
        new RpcFactory(size + (1 << 20), RpcSecurity.token(RpcSecurity.generateToken()));
    Server server =
        rpc.startServer(
            RpcFactory.LOOPBACK,
            0,
            List.<BindableService>of(
                new ControlServiceGrpc.ControlServiceImplBase() {
                  @Override
                  public void kvPut(KvPutRequest request, StreamObserver<KvPutReply> reply) {
                    reply.onNext(KvPutReply.getDefaultInstance());
                    reply.onCompleted();
                  }
                }));
    ManagedChannel channel = rpc.newChannel(RpcFactory.LOOPBACK + ":" + server.getPort());
    byte[] payload = new byte[size];
    ControlServiceGrpc.ControlServiceBlockingStub stub =
        ControlServiceGrpc.newBlockingStub(channel);
    return new GbMeasurement(
        "grpc unary, " + (size >> 20) + " MiB inline", (long) size * calls, calls + " calls") {
      @Override
      void once() {
        for (int i = 0; i < calls; i++) {
          stub.kvPut(
              KvPutRequest.newBuilder()
                  .setKey("k")
                  .setValue(UnsafeByteOperations.unsafeWrap(payload))
                  .build());
        }
      }

      @Override
      public void close() {
        RpcFactory.shutdownQuietly(channel);
        RpcFactory.shutdownQuietly(server);
      }
    };
  }
}
