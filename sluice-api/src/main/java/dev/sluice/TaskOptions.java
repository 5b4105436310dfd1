package dev.sluice;

import java.util.Map;
import java.util.TreeMap;

/**
 * Per-call options of a task. Immutable; build with {@link #builder()}. Invalid values are rejected
 * by the builder with {@link IllegalArgumentException}.
 */
public final class TaskOptions {
  private static final TaskOptions DEFAULTS = builder().build();

  private final int maxRetries;
  private final boolean retryExceptions;
  private final double numCpus;
  private final Map<String, Double> resources;
  private final int generatorBackpressureNumObjects;
  private final String name;
  private final NodeId affinityNode;
  private final boolean affinitySoft;

  private TaskOptions(Builder b) {
    this.affinityNode = b.affinityNode;
    this.affinitySoft = b.affinitySoft;
    this.maxRetries = b.maxRetries;
    this.retryExceptions = b.retryExceptions;
    this.numCpus = b.numCpus;
    this.resources = Map.copyOf(b.resources);
    this.generatorBackpressureNumObjects = b.generatorBackpressureNumObjects;
    this.name = b.name;
  }

  /** The options used when none are given. */
  public static TaskOptions defaults() {
    return DEFAULTS;
  }

  /** A builder with the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** How many times a failed task is retried (default 3; 0 = never). */
  public int maxRetries() {
    return maxRetries;
  }

  /** Whether application exceptions are retried too (default false: only system failures). */
  public boolean retryExceptions() {
    return retryExceptions;
  }

  /** CPUs the task needs on its node (default 1). */
  public double numCpus() {
    return numCpus;
  }

  /** Custom resources the task needs, by name. */
  public Map<String, Double> resources() {
    return resources;
  }

  /** Cap on generated-but-unconsumed items of a streaming generator; -1 = no cap. */
  public int generatorBackpressureNumObjects() {
    return generatorBackpressureNumObjects;
  }

  /** A display name for the task, or null to use the function's name. */
  public String name() {
    return name;
  }

  /** The node the task must (or, when {@link #nodeAffinitySoft()}, should) run on, or null. */
  public NodeId nodeAffinity() {
    return affinityNode;
  }

  /** Whether {@link #nodeAffinity()} is a preference rather than a requirement. */
  public boolean nodeAffinitySoft() {
    return affinitySoft;
  }

  @Override
  public String toString() {
    return "TaskOptions{maxRetries="
        + maxRetries
        + ", retryExceptions="
        + retryExceptions
        + ", numCpus="
        + numCpus
        + ", resources="
        + new TreeMap<>(resources)
        + ", generatorBackpressureNumObjects="
        + generatorBackpressureNumObjects
        + (name == null ? "" : ", name=" + name)
        + (affinityNode == null
            ? ""
            : ", nodeAffinity=" + affinityNode + (affinitySoft ? " (soft)" : " (hard)"))
        + "}";
  }

  /** Builds {@link TaskOptions}. */
  public static final class Builder {
    private int maxRetries = 3;
    private boolean retryExceptions;
    private double numCpus = 1;
    private Map<String, Double> resources = Map.of();
    private int generatorBackpressureNumObjects = -1;
    private String name;
    private NodeId affinityNode;
    private boolean affinitySoft;

    private Builder() {}

    /**
     * Runs the task on node {@code node}. Hard ({@code soft=false}): only there; if that node is
     * dead or unknown the task fails with {@link NodeDiedException}. Soft: there while that node is
     * alive, elsewhere otherwise. {@code null} clears the affinity.
     */
    public Builder nodeAffinity(NodeId node, boolean soft) {
      this.affinityNode = node;
      this.affinitySoft = soft;
      return this;
    }

    /** Retries after a failure; 0 disables retries. */
    public Builder maxRetries(int maxRetries) {
      if (maxRetries < 0) {
        throw new IllegalArgumentException("maxRetries must be >= 0, got " + maxRetries);
      }
      this.maxRetries = maxRetries;
      return this;
    }

    /** Whether application exceptions are retried (within {@link #maxRetries}). */
    public Builder retryExceptions(boolean retryExceptions) {
      this.retryExceptions = retryExceptions;
      return this;
    }

    /** CPUs the task needs; may be fractional, must be >= 0. */
    public Builder numCpus(double numCpus) {
      this.numCpus = ResourceChecks.cpus(numCpus);
      return this;
    }

    /** Custom resources by name; each amount must be > 0. */
    public Builder resources(Map<String, Double> resources) {
      this.resources = ResourceChecks.resources(resources);
      return this;
    }

    /**
     * Caps generated-but-unconsumed items of a streaming generator: -1 = off, n >= 1 = at most n. 0
     * and values below -1 are rejected.
     */
    public Builder generatorBackpressureNumObjects(int n) {
      if (n == 0 || n < -1) {
        throw new IllegalArgumentException(
            "generatorBackpressureNumObjects must be -1 (off) or >= 1, got " + n);
      }
      this.generatorBackpressureNumObjects = n;
      return this;
    }

    /** A display name used in logs and errors. */
    public Builder name(String name) {
      this.name = name;
      return this;
    }

    /** The options. */
    public TaskOptions build() {
      return new TaskOptions(this);
    }
  }
}
