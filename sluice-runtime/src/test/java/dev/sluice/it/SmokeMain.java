package dev.sluice.it;

import dev.sluice.ObjectRef;
import dev.sluice.Sluice;
import dev.sluice.SluiceConfig;
import java.util.ArrayList;
import java.util.List;

public class SmokeMain {
  static int add(int a, int b) {
    return a + b;
  }

  static long pid() {
    return ProcessHandle.current().pid();
  }

  public static void main(String[] args) {
    long t0 = System.nanoTime();
    Sluice.init(SluiceConfig.builder().numCpus(2).build());
    ObjectRef<Integer> r = Sluice.task(SmokeMain::add, 1, 2).remote();
    System.out.println("1+2=" + r.get() + " after " + (System.nanoTime() - t0) / 1_000_000 + " ms");
    ObjectRef<Integer> r2 = Sluice.task(SmokeMain::add, r, 10).remote();
    System.out.println("r+10=" + r2.get());
    System.out.println("pid " + Sluice.task(SmokeMain::pid).remote().get());
    for (int round = 0; round < (args.length > 0 ? 0 : 5); round++) {
      long t = System.nanoTime();
      int n = 20000;
      List<ObjectRef<Integer>> refs = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        refs.add(Sluice.task(SmokeMain::add, i, 1).remote());
      }
      Sluice.get(refs);
      double s = (System.nanoTime() - t) / 1e9;
      System.out.printf("%d tasks in %.3f s = %.0f/s%n", n, s, n / s);
    }
    for (int round = 0; round < 6; round++) {
      long t = System.nanoTime();
      int n = 2000;
      long sub = 0;
      for (int i = 0; i < n; i++) {
        long a = System.nanoTime();
        var ref = Sluice.task(SmokeMain::add, i, 1).remote();
        sub += System.nanoTime() - a;
        ref.get();
      }
      System.out.printf("sync rtt %.1f us (submit %.1f us)%n", (System.nanoTime() - t) / 1e3 / n, sub / 1e3 / n);
    }
    Sluice.shutdown();
  }
}
