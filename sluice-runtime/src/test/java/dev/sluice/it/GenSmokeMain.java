package dev.sluice.it;

import dev.sluice.ObjectRef;
import dev.sluice.ObjectRefGenerator;
import dev.sluice.Sluice;
import dev.sluice.SluiceConfig;
import dev.sluice.TaskOptions;
import java.util.Iterator;
import java.util.concurrent.Flow;
import java.util.concurrent.SubmissionPublisher;
import java.util.stream.IntStream;

public class GenSmokeMain {
  static Iterator<Integer> numbers(int n) {
    return IntStream.range(0, n).iterator();
  }

  static Iterator<Integer> failing(int n) {
    return IntStream.range(0, n + 1).map(i -> {
      if (i == n) {
        throw new IllegalStateException("boom at " + i);
      }
      return i;
    }).iterator();
  }

  static Flow.Publisher<Integer> pub(int n) {
    return subscriber -> {
      SubmissionPublisher<Integer> p = new SubmissionPublisher<>();
      p.subscribe(subscriber);
      Thread.ofVirtual().start(() -> {
        for (int i = 0; i < n; i++) {
          p.submit(i);
        }
        p.close();
      });
    };
  }

  public static void main(String[] args) throws Exception {
    Sluice.init(SluiceConfig.builder().numCpus(2).build());
    try (ObjectRefGenerator<Integer> gen = Sluice.generator(GenSmokeMain::numbers, 5).remote()) {
      for (ObjectRef<Integer> ref : gen) {
        System.out.print(ref.get() + " ");
      }
      System.out.println("| completed=" + gen.completed().get());
    }
    try (ObjectRefGenerator<Integer> gen = Sluice.generator(GenSmokeMain::failing, 3).remote()) {
      for (ObjectRef<Integer> ref : gen) {
        try {
          System.out.print(ref.get() + " ");
        } catch (Exception e) {
          System.out.print("[" + e.getClass().getSimpleName() + ": " + e.getCause() + "] ");
        }
      }
      System.out.println("| completed=" + gen.completed().get());
    }
    try (ObjectRefGenerator<Integer> gen = Sluice.asyncGenerator(GenSmokeMain::pub, 5).remote()) {
      for (ObjectRef<Integer> ref : gen) {
        System.out.print(ref.get() + " ");
      }
      System.out.println("| async done");
    }
    for (int bp : new int[] {-1, 1, 16}) {
      int n = 20000;
      long t = System.nanoTime();
      long sum = 0;
      try (ObjectRefGenerator<Integer> gen = Sluice.generator(GenSmokeMain::numbers, n)
          .options(TaskOptions.builder().generatorBackpressureNumObjects(bp).build()).remote()) {
        for (ObjectRef<Integer> ref : gen) {
          sum += ref.get();
        }
      }
      double s = (System.nanoTime() - t) / 1e9;
      System.out.printf("bp=%d: %d items sum=%d in %.3f s = %.0f items/s%n", bp, n, sum, s, n / s);
    }
    Sluice.shutdown();
  }
}
