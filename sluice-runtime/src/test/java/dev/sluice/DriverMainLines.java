package dev.sluice;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * The line protocol the driver programs run as JVMs of their own by tests speak on their standard
 * streams: they print a {@code READY ...} line once set up, then wait for a word on standard input,
 * then shut Sluice down and say so. Used from the drivers' single main thread only.
 */
final class DriverMainLines {
  private DriverMainLines() {}

  /**
   * Prints {@code ready} and waits for a line that is {@code word}, or for the end of standard
   * input; returns that line, or null at the end of input.
   */
  static String readyThenAwait(String ready, String word) throws IOException {
    say(ready);
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    do {
      line = in.readLine();
    } while (line != null && !line.trim().equals(word));
    return line;
  }

  /** Shuts Sluice down, prints {@code done} and exits the JVM. */
  static void shutdownAndExit(String done) {
    Sluice.shutdown();
    say(done);
    System.exit(0);
  }

  private static void say(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
