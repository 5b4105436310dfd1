package dev.sluice.examples;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The demo's actor: a stand-in for a language model server. Its constructor "loads the model" (a
 * vocabulary built with some deliberate work) once per actor; {@link #generate} streams tokens for
 * one request, a few milliseconds apart, as a decoder would.
 *
 * <p>Threading: the actor runs with {@code maxConcurrency} above 1, so several {@code generate}
 * streams and {@link #produced} calls run at once on the actor's threads; the vocabulary is
 * immutable after construction and the counters are concurrent.
 */
public final class ModelServer {
  /** What the server reports about itself. */
  public record Info(String model, long pid, long loadMillis, int vocabulary, int requests) {}

  private final String model;
  private final String[] vocabulary;
  private final long loadMillis;
  private final AtomicInteger requests = new AtomicInteger();
  private final ConcurrentHashMap<String, AtomicInteger> produced = new ConcurrentHashMap<>();

  /** Loads the model: builds a vocabulary of {@code words} pseudo-words. */
  public ModelServer(String model, int words) {
    long start = System.nanoTime();
    this.model = model;
    Random random = new Random(model.hashCode());
    String syllables = "ka lo mi re su ta ne vo pi da ru se lu ma ko";
    String[] parts = syllables.split(" ");
    vocabulary = new String[words];
    for (int i = 0; i < words; i++) {
      int n = 1 + random.nextInt(3);
      StringBuilder w = new StringBuilder();
      for (int s = 0; s < n; s++) {
        w.append(parts[random.nextInt(parts.length)]);
      }
      vocabulary[i] = w.toString();
    }
    pause(250); // the rest of "loading the weights"
    loadMillis = (System.nanoTime() - start) / 1_000_000;
  }

  /** Where and how the model was loaded, and how many requests it has served. */
  public Info info() {
    return new Info(
        model, ProcessHandle.current().pid(), loadMillis, vocabulary.length, requests.get());
  }

  /** Streams {@code maxTokens} tokens for {@code prompt}, one every {@code millisPerToken}. */
  public Iterator<String> generate(
      String requestId, String prompt, int maxTokens, int millisPerToken) {
    requests.incrementAndGet();
    AtomicInteger count = produced.computeIfAbsent(requestId, k -> new AtomicInteger());
    Random random = new Random(prompt.hashCode());
    return new Iterator<>() {
      private int k;

      @Override
      public boolean hasNext() {
        return k < maxTokens;
      }

      @Override
      public String next() {
        if (k >= maxTokens) {
          throw new NoSuchElementException();
        }
        pause(millisPerToken);
        k++;
        count.incrementAndGet();
        return vocabulary[random.nextInt(vocabulary.length)];
      }
    };
  }

  /** How many tokens the server has produced so far for request {@code requestId}. */
  public int produced(String requestId) {
    AtomicInteger c = produced.get(requestId);
    return c == null ? 0 : c.get();
  }

  private static void pause(int millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("cancelled", e);
    }
  }
}
