package dev.sluice.bench;

import dev.sluice.ObjectRef;
import dev.sluice.ObjectRefGenerator;
import dev.sluice.Sluice;
import dev.sluice.TaskOptions;

/**
 * The large-item row of the data-path group: a stream of 64 MiB items whose producer allocates and
 * fills a fresh array per item ({@link BenchTasks#freshChunks}), read by the plain consumer loop a
 * user writes: {@code for (ref : gen) ref.get()}, no {@code release()}. GB/s of payload; its peer
 * is {@code System.arraycopy} in a JVM of its own.
 *
 * <p>Runs on the thread that calls it; Sluice must be initialized.
 */
final class LargeFreshItems {
  /** Backpressure of the stream, as in the other large-item rows. */
  static final int BACKPRESSURE = 2;

  private LargeFreshItems() {}

  /** One stream of {@code items} fresh items of {@link LargeObjectBenchmarks#ITEM_BYTES}. */
  static Measurement stream(int items) {
    int size = LargeObjectBenchmarks.ITEM_BYTES;
    TaskOptions options =
        TaskOptions.builder().generatorBackpressureNumObjects(BACKPRESSURE).build();
    String name = "sluice stream 64 MiB fresh arrays, plain get() loop";
    return new GbMeasurement(
        name,
        (long) items * size,
        "1 stream of " + items + " items, backpressure " + BACKPRESSURE + ", no release()") {
      @Override
      void once() {
        int n = 0;
        try (ObjectRefGenerator<byte[]> gen =
            Sluice.generator(BenchTasks::freshChunks, items, size).options(options).remote()) {
          for (ObjectRef<byte[]> ref : gen) {
            byte[] b = ref.get();
            if (b.length != size || b[size - 1] != (byte) n) {
              throw new IllegalStateException(name + ": item " + n + " has the wrong bytes");
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
}
