package dev.sluice.runtime.owner;

import com.google.protobuf.ByteString;
import dev.sluice.TaskId;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.NodeAffinity;
import dev.sluice.runtime.rpc.proto.ObjectRefInfo;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.TaskArg;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Resolves a task's {@code ObjectRef} arguments before it is scheduled: inlines small values, keeps
 * refs to values in a node's shared store (and prefers that node for the task, by bytes), and fails
 * the task when an argument failed or could not be resolved.
 *
 * <p>Threads: stateless; {@link #resolve} may be called from any thread and continues on the thread
 * that completes the last argument.
 */
public final class DependencyResolver {
  private final TaskManager taskManager;
  private final Function<ObjectRefInfo, CompletableFuture<ObjectValue>> resolver;

  public DependencyResolver(
      TaskManager taskManager, Function<ObjectRefInfo, CompletableFuture<ObjectValue>> resolver) {
    this.taskManager = taskManager;
    this.resolver = resolver;
  }

  /** Resolves {@code spec}'s arguments and hands the resolved spec to {@code then}. */
  void resolve(TaskSpec spec, Consumer<TaskSpec> then) {
    resolve(spec, then, () -> {});
  }

  /**
   * Resolves {@code spec}'s arguments and hands the resolved spec to {@code then}; when an argument
   * fails, the task is failed in the task manager (retried if the failure allows) and {@code
   * failed} runs after.
   */
  public void resolve(TaskSpec spec, Consumer<TaskSpec> then, Runnable failed) {
    List<CompletableFuture<ObjectValue>> deps = new ArrayList<>();
    for (TaskArg a : spec.getArgsList()) {
      if (a.hasRef()) {
        deps.add(resolver.apply(a.getRef()));
      }
    }
    if (deps.isEmpty()) {
      then.accept(spec);
      return;
    }
    CompletableFuture.allOf(deps.toArray(CompletableFuture[]::new))
        .whenComplete(
            (v, err) -> {
              TaskId id = KeyState.taskId(spec);
              if (err != null) {
                taskManager.fail(
                    id,
                    Errors.error(
                        ErrorType.OBJECT_LOST,
                        "task "
                            + id
                            + " ("
                            + spec.getDisplayName()
                            + ") could not resolve an argument: "
                            + err),
                    false);
                failed.run();
                return;
              }
              TaskSpec.Builder resolved = spec.toBuilder().clearArgs();
              Map<ByteString, Long> sharedBytesByNode = new HashMap<>();
              int d = 0;
              for (TaskArg a : spec.getArgsList()) {
                if (!a.hasRef()) {
                  resolved.addArgs(a);
                  continue;
                }
                ObjectValue value = deps.get(d++).join();
                if (value.hasError()) {
                  // A task whose argument failed fails with that same error, without running; an
                  // argument that was lost (not failed) may be there on a retry.
                  ErrorType type = value.getError().getType();
                  taskManager.fail(
                      id,
                      value.getError(),
                      type == ErrorType.OBJECT_LOST || type == ErrorType.OWNER_DIED);
                  failed.run();
                  return;
                }
                if (value.hasShared()) {
                  // In the node's store: the executor reads it from there by ref, never over RPC.
                  resolved.addArgs(a);
                  sharedBytesByNode.merge(
                      value.getShared().getNodeId(), value.getShared().getSize(), Long::sum);
                  continue;
                }
                resolved.addArgs(TaskArg.newBuilder().setValue(value.getData()));
              }
              if (!resolved.hasNodeAffinity() && !sharedBytesByNode.isEmpty()) {
                // Locality: a task with large arguments prefers the node that holds most of their
                // bytes.
                ByteString best =
                    Collections.max(sharedBytesByNode.entrySet(), Map.Entry.comparingByValue())
                        .getKey();
                resolved.setNodeAffinity(NodeAffinity.newBuilder().setNodeId(best).setSoft(true));
              }
              then.accept(resolved.build());
            });
  }
}
