package dev.sluice.runtime.state;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.rpc.proto.FunctionDescriptor;
import dev.sluice.runtime.rpc.proto.TaskEventInfo;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a task event says of its task besides the attempt (name, function, job, kind, actor), built
 * once per distinct function and kind and shared by every attempt of it, so that recording an
 * attempt keeps no reference to its spec and builds no message.
 *
 * <p>Thread-safe: recording threads look infos up concurrently; the cache is bounded (it starts
 * over when full).
 */
final class TaskEventInfos {
  /** Infos kept at most; beyond, the cache starts over. */
  private static final int MAX_CACHED = 4_096;

  private record Key(
      FunctionDescriptor function,
      String name,
      ByteString jobId,
      boolean generator,
      int kind,
      ByteString actorId) {}

  private final Map<Key, TaskEventInfo> infos = new ConcurrentHashMap<>();

  /** The info of {@code spec}'s task. */
  TaskEventInfo of(TaskSpec spec) {
    int kind = spec.hasActorCreation() ? 1 : spec.hasActorCall() ? 2 : 0;
    ByteString actorId =
        switch (kind) {
          case 1 -> spec.getActorCreation().getActorId();
          case 2 -> spec.getActorCall().getActorId();
          default -> ByteString.EMPTY;
        };
    Key key =
        new Key(
            spec.getFunction(),
            spec.getDisplayName(),
            spec.getJobId(),
            spec.getStreamingGenerator(),
            kind,
            actorId);
    TaskEventInfo info = infos.get(key);
    if (info == null) {
      if (infos.size() >= MAX_CACHED) {
        infos.clear();
      }
      info =
          TaskEventInfo.newBuilder()
              .setName(spec.getDisplayName())
              .setFunctionName(functionName(spec))
              .setGenerator(spec.getStreamingGenerator())
              .setJobId(spec.getJobId())
              .setType(
                  switch (kind) {
                    case 1 -> "ACTOR_CREATION_TASK";
                    case 2 -> "ACTOR_TASK";
                    default -> "NORMAL_TASK";
                  })
              .setActorId(actorId)
              .build();
      TaskEventInfo raced = infos.putIfAbsent(key, info);
      if (raced != null) {
        info = raced;
      }
    }
    return info;
  }

  /** {@code SimpleClass.method} of the task's function. */
  static String functionName(TaskSpec spec) {
    String cls = spec.getFunction().getClassName();
    String method = spec.getFunction().getMethodName();
    if (cls.isEmpty() || method.isEmpty()) {
      return spec.getDisplayName();
    }
    return cls.substring(cls.lastIndexOf('.') + 1) + "." + method;
  }
}
