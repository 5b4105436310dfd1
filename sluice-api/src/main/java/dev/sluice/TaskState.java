package dev.sluice;

import java.time.Instant;

/**
 * One attempt of a task, as {@code sluice list tasks} and {@link ClusterState#tasks} show it (Ray's
 * {@code TaskState}). Built from the task events that owners and executors report in batches, so a
 * row may lag the task by about a second; fields not known yet are null.
 *
 * @param taskId the task
 * @param attemptNumber 0 for the first run, then one more per retry
 * @param name the task's name: {@link TaskOptions.Builder#name(String)} if set, else {@link
 *     #functionName()}
 * @param functionName the function or actor method, as {@code Class.method}
 * @param type {@code NORMAL_TASK}, {@code ACTOR_CREATION_TASK} or {@code ACTOR_TASK}
 * @param state where the attempt is
 * @param generator true for a streaming generator task (its items are listed by {@link
 *     ClusterState#streams})
 * @param jobId the job (driver) that submitted it
 * @param nodeId the node running (or that ran) the attempt; null before it was placed
 * @param workerId the worker running (or that ran) the attempt; null before it was placed
 * @param actorId the actor, for actor creation and actor tasks; null for normal tasks
 * @param submittedAt when the owner submitted the attempt
 * @param startedAt when it began running on its worker; null before
 * @param endedAt when it finished or failed; null while it runs
 * @param errorType for {@link TaskStatus#FAILED}: the error kind (e.g. {@code
 *     TASK_EXECUTION_EXCEPTION}, {@code WORKER_DIED}, {@code TASK_CANCELLED}); else null
 * @param errorMessage for {@link TaskStatus#FAILED}: what went wrong, naming task, function and
 *     node; else null
 */
public record TaskState(
    TaskId taskId,
    int attemptNumber,
    String name,
    String functionName,
    String type,
    TaskStatus state,
    boolean generator,
    JobId jobId,
    NodeId nodeId,
    WorkerId workerId,
    ActorId actorId,
    Instant submittedAt,
    Instant startedAt,
    Instant endedAt,
    String errorType,
    String errorMessage) {}
