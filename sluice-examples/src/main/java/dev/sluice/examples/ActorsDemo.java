package dev.sluice.examples;

import dev.sluice.ActorHandle;
import dev.sluice.ActorOptions;
import dev.sluice.ObjectRef;
import dev.sluice.ObjectRefGenerator;
import dev.sluice.Sluice;
import dev.sluice.TaskOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The demo's actor part: a {@link ModelServer} actor loads its model once, then streams tokens to
 * several concurrent requests, each with backpressure; one request reads slowly to show that the
 * server never runs more than the backpressure bound ahead of it.
 *
 * <p>Threading: {@link #run} is called on the driver's main thread; each request is read on a
 * virtual thread of its own.
 */
final class ActorsDemo {
  static final int BACKPRESSURE = 4;
  static final int TOKENS = 24;

  private ActorsDemo() {}

  /** What one request got back. */
  record Response(int request, String text, int tokens, long firstMs, long totalMs, int maxLead) {}

  static void run() {
    System.out.printf(
        "9. Actors: a model server loads its model once and streams tokens to 3 concurrent"
            + " requests (backpressure %d)%n",
        BACKPRESSURE);
    long t = System.nanoTime();
    ActorHandle<ModelServer> server =
        Sluice.actor(ModelServer::new, "tiny-lm", 200_000)
            .options(ActorOptions.builder().name("model-server").maxConcurrency(4).build())
            .remote();
    ModelServer.Info loaded = server.task(ModelServer::info).remote().get();
    System.out.printf(
        "   model %s loaded once in %d ms in actor process pid %d (%,d words), ready after %d ms%n",
        loaded.model(), loaded.loadMillis(), loaded.pid(), loaded.vocabulary(), ms(t));

    String[] prompts = {
      "why is the sky blue", "write a haiku about queues", "explain backpressure"
    };
    long start = System.nanoTime();
    List<Response> responses = new ArrayList<>();
    try (ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<Response>> futures = new ArrayList<>();
      for (int i = 0; i < prompts.length; i++) {
        int request = i + 1;
        String prompt = prompts[i];
        boolean slow = request == prompts.length;
        futures.add(readers.submit(() -> read(server, request, prompt, slow, start)));
      }
      for (Future<Response> f : futures) {
        responses.add(f.get());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
    for (Response r : responses) {
      System.out.printf(
          "   request %d: %d tokens, first after %d ms, done after %d ms: \"%s ...\"%n",
          r.request(), r.tokens(), r.firstMs(), r.totalMs(), r.text());
    }
    Response slow = responses.get(responses.size() - 1);
    System.out.printf(
        "   request %d read one token per 40 ms: the server was never more than %d tokens"
            + " ahead of it (bound %d)%n",
        slow.request(), slow.maxLead(), BACKPRESSURE);
    ModelServer.Info after = server.task(ModelServer::info).remote().get();
    System.out.printf(
        "   %d requests served by the one instance in pid %d, model loaded once%n%n",
        after.requests(), after.pid());
    Sluice.kill(server);
  }

  private static Response read(
      ActorHandle<ModelServer> server, int request, String prompt, boolean slow, long start)
      throws InterruptedException {
    String id = "request-" + request;
    StringBuilder text = new StringBuilder();
    int tokens = 0;
    long firstMs = -1;
    int maxLead = 0;
    try (ObjectRefGenerator<String> gen =
        server
            .generator(ModelServer::generate, id, prompt, TOKENS, 5)
            .options(TaskOptions.builder().generatorBackpressureNumObjects(BACKPRESSURE).build())
            .remote()) {
      for (ObjectRef<String> token : gen) {
        String word = token.get();
        tokens++;
        if (firstMs < 0) {
          firstMs = ms(start);
        }
        if (tokens <= 6) {
          text.append(tokens == 1 ? "" : " ").append(word);
        }
        if (slow) {
          Thread.sleep(40);
          int produced = server.task(ModelServer::produced, id).remote().get();
          maxLead = Math.max(maxLead, produced - tokens);
        }
      }
    }
    return new Response(request, text.toString(), tokens, firstMs, ms(start), maxLead);
  }

  private static long ms(long since) {
    return (System.nanoTime() - since) / 1_000_000;
  }
}
