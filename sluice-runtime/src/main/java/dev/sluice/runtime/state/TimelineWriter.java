package dev.sluice.runtime.state;

import dev.sluice.NodeId;
import dev.sluice.TaskState;
import dev.sluice.WorkerId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes task attempts as a Chrome trace (the Trace Event Format's JSON object form, as Ray's
 * {@code ray timeline} does): one complete event ({@code "ph":"X"}) per attempt that started, named
 * by its function, on process {@code pid} = its node and thread {@code tid} = its worker (small
 * numbers, named by metadata events {@code process_name} and {@code thread_name}), with the task
 * id, attempt and outcome in {@code args}. An attempt still running ends at the time of writing.
 * Perfetto ({@code ui.perfetto.dev}) and {@code chrome://tracing} open it.
 *
 * <p>Stateless and thread-safe.
 */
public final class TimelineWriter {
  private TimelineWriter() {}

  /** Writes the trace of {@code tasks} to {@code file}. */
  public static void write(List<TaskState> tasks, Path file) throws IOException {
    Files.writeString(file, trace(tasks, Instant.now()));
  }

  /** The trace of {@code tasks} as JSON; attempts still running end at {@code now}. */
  public static String trace(List<TaskState> tasks, Instant now) {
    Map<NodeId, Integer> pids = new LinkedHashMap<>();
    Map<WorkerId, Integer> tids = new LinkedHashMap<>();
    Map<WorkerId, Integer> tidPid = new HashMap<>();
    List<Object> events = new ArrayList<>();
    for (TaskState t : tasks) {
      if (t.startedAt() == null || t.nodeId() == null || t.workerId() == null) {
        continue;
      }
      int pid = pids.computeIfAbsent(t.nodeId(), n -> pids.size() + 1);
      int tid = tids.computeIfAbsent(t.workerId(), w -> tids.size() + 1);
      tidPid.putIfAbsent(t.workerId(), pid);
      Instant end = t.endedAt() != null && !t.endedAt().isBefore(t.startedAt()) ? t.endedAt() : now;
      Map<String, Object> args = new LinkedHashMap<>();
      args.put("task_id", t.taskId());
      args.put("attempt_number", t.attemptNumber());
      args.put("state", t.state());
      if (t.errorType() != null) {
        args.put("error_type", t.errorType());
      }
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("name", t.functionName().isEmpty() ? t.name() : t.functionName());
      e.put("cat", t.type().toLowerCase(Locale.ROOT));
      e.put("ph", "X");
      e.put("ts", micros(t.startedAt()));
      e.put("dur", Math.max(1, Duration.between(t.startedAt(), end).toNanos() / 1_000));
      e.put("pid", pid);
      e.put("tid", tid);
      e.put("args", args);
      events.add(e);
    }
    List<Object> all = new ArrayList<>();
    pids.forEach((node, pid) -> all.add(meta("process_name", pid, null, "node " + node.hex())));
    tids.forEach(
        (worker, tid) ->
            all.add(meta("thread_name", tidPid.get(worker), tid, "worker " + worker.hex())));
    all.addAll(events);
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("traceEvents", all);
    root.put("displayTimeUnit", "ms");
    return StateJson.of(root);
  }

  private static Map<String, Object> meta(String kind, int pid, Integer tid, String name) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", kind);
    m.put("ph", "M");
    m.put("pid", pid);
    if (tid != null) {
      m.put("tid", tid);
    }
    m.put("args", Map.of("name", name));
    return m;
  }

  private static long micros(Instant i) {
    return i.getEpochSecond() * 1_000_000L + i.getNano() / 1_000;
  }
}
