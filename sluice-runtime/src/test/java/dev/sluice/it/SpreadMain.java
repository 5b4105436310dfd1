package dev.sluice.it;

import dev.sluice.ObjectRef;
import dev.sluice.Sluice;
import dev.sluice.SluiceConfig;
import java.util.ArrayList;
import java.util.List;

public class SpreadMain {
  static long slow(int ms) throws InterruptedException {
    Thread.sleep(ms);
    return ProcessHandle.current().pid();
  }

  public static void main(String[] args) {
    Sluice.init(SluiceConfig.builder().numCpus(2).build());
    Sluice.task(SpreadMain::slow, 1).remote().get();
    for (int r = 0; r < 2; r++) {
      long t = System.nanoTime();
      List<ObjectRef<Long>> refs = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        refs.add(Sluice.task(SpreadMain::slow, 200).remote());
      }
      System.out.println(Sluice.get(refs) + " in " + (System.nanoTime() - t) / 1_000_000 + " ms");
    }
    Sluice.shutdown();
  }
}
