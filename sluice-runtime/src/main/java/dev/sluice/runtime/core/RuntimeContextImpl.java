package dev.sluice.runtime.core;

import dev.sluice.ActorId;
import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.RuntimeContext;
import dev.sluice.TaskId;
import dev.sluice.WorkerId;
import java.util.Optional;

/** An immutable snapshot of where code runs. */
record RuntimeContextImpl(
    JobId jobId,
    TaskId taskId,
    int attemptNumber,
    NodeId nodeId,
    WorkerId workerId,
    boolean isWorker,
    Optional<ActorId> actorId)
    implements RuntimeContext {}
