package dev.sluice.examples;

import dev.sluice.ObjectRef;
import dev.sluice.Sluice;
import java.util.ArrayList;
import java.util.List;

/** The example shown in the README, kept here so that the build proves it compiles and runs. */
public class Example {
  static int square(int x) {
    return x * x;
  }

  static int sum(List<Integer> xs) {
    return xs.stream().mapToInt(Integer::intValue).sum();
  }

  /** Runs the README example. */
  public static void main(String[] args) {
    Sluice.init();
    List<ObjectRef<Integer>> squares = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      squares.add(Sluice.task(Example::square, i).remote());
    }
    ObjectRef<List<Integer>> all = Sluice.put(Sluice.get(squares));
    System.out.println(Sluice.task(Example::sum, all).remote().get());
    Sluice.shutdown();
  }
}
