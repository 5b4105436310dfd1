package dev.sluice.runtime.node;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.code.PackageCache;
import dev.sluice.runtime.rpc.proto.GetJobReply;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The code of each job a lease was asked for on this node: which worker key serves a request, and
 * the class path of a key's workers. The first request of a job starts fetching its code (the job's
 * packages, from the head into the node's {@link PackageCache}) on a virtual thread; its requests
 * wait meanwhile.
 *
 * <p>Threads: the map is guarded by the node manager's lock ({@code ...Locked} methods); the fetch
 * runs on its own virtual thread, never under the lock, and reports through {@link Fetched}.
 */
final class JobCodeCache {
  private static final Logger log = LoggerFactory.getLogger(JobCodeCache.class);

  /** Learns the class path of a job's own workers; null: the node's (shared workers). */
  @FunctionalInterface
  interface Fetcher {
    List<Path> classPathOf(ByteString job) throws IOException;
  }

  /** Told (without the lock) that a job's code is ready, or why it cannot be had. */
  @FunctionalInterface
  interface Fetched {
    void fetched(ByteString job, List<Path> classPath, String failure);
  }

  /** A job's code on this node: being fetched until {@code ready}. */
  private static final class JobCode {
    boolean ready;

    /** Class path of the job's own workers; null: the node's (served by shared workers). */
    List<Path> classPath;
  }

  private final NodeConfig config;
  private final Fetcher fetcher;
  private final Fetched fetched;
  private final Map<ByteString, JobCode> jobCode = new HashMap<>();

  JobCodeCache(NodeConfig config, Fetcher fetcher, Fetched fetched) {
    this.config = config;
    this.fetcher = fetcher;
    this.fetched = fetched;
  }

  /**
   * The fetcher of a node: asks the control service for the job's code packages and brings them
   * into {@code packages} unless the node's class path holds them all.
   */
  static Fetcher fromControl(NodeConfig config, ControlClient control, PackageCache packages) {
    return job -> {
      GetJobReply reply = control.getJob(job);
      List<String> code = reply.getJob().getCodePackagesList();
      if (!reply.getFound()) {
        log.warn(
            "job {} is unknown to the control service; its tasks run on the node's own "
                + "class path",
            WorkerPool.jobName(job));
      } else if (!code.isEmpty() && !packages.allLocal(code)) {
        long t0 = System.nanoTime();
        List<Path> classPath = packages.resolve(code);
        log.info(
            "code of job {} ready on node {}: {} packages in {} ms",
            WorkerPool.jobName(job),
            config.nodeId(),
            code.size(),
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        return classPath;
      }
      return null;
    };
  }

  /**
   * The worker key of a request: the empty key for the node's own code, else the job id; null while
   * the job's code is being fetched (the first request of a job starts that).
   */
  ByteString workerKeyLocked(WorkerLeaseRequest r) {
    ByteString job = r.jobId();
    if (job.isEmpty()) {
      return ByteString.EMPTY;
    }
    JobCode code = jobCode.get(job);
    if (code == null) {
      jobCode.put(job, new JobCode());
      Thread.ofVirtual().name("sluice-job-code").start(() -> fetch(job));
      return null;
    }
    if (!code.ready) {
      return null;
    }
    return code.classPath == null ? ByteString.EMPTY : job;
  }

  /** The class path of workers of {@code key}, or null if the key's code is not ready. */
  List<Path> classPathLocked(ByteString key) {
    if (key.isEmpty()) {
      return config.workerClassPath();
    }
    JobCode code = jobCode.get(key);
    return code == null || !code.ready ? null : code.classPath;
  }

  /** The job's code is ready: its workers run {@code classPath} (null: the node's). */
  void readyLocked(ByteString job, List<Path> classPath) {
    JobCode code = jobCode.get(job);
    if (code != null) {
      code.classPath = classPath;
      code.ready = true;
    }
  }

  /** The job's code could not be had: forgotten, so that a later request tries again. */
  void forgetLocked(ByteString job) {
    jobCode.remove(job);
  }

  /** Fetches the job's code and reports it. Runs on a virtual thread, never under the lock. */
  private void fetch(ByteString job) {
    List<Path> classPath = null;
    String failure = null;
    try {
      classPath = fetcher.classPathOf(job);
    } catch (IOException | RuntimeException e) {
      failure =
          "node "
              + config.nodeId()
              + " cannot get the code of job "
              + WorkerPool.jobName(job)
              + ": "
              + e.getMessage();
      log.error(failure);
    }
    fetched.fetched(job, classPath, failure);
  }
}
