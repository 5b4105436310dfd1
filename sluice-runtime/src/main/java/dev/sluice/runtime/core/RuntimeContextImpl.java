package dev.sluice.runtime.core;

import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.RuntimeContext;
import dev.sluice.TaskId;
import dev.sluice.WorkerId;

/** An immutable snapshot of where code runs. */
record RuntimeContextImpl(
    JobId jobId,
    TaskId taskId,
    int attemptNumber,
    NodeId nodeId,
    WorkerId workerId,
    boolean isWorker)
    implements RuntimeContext {}
