package dev.sluice;

import java.util.Map;
import java.util.Objects;

/**
 * How an actor is created, named, placed and restarted. Immutable; build with {@link #builder()}.
 * Options of its method calls (display name, generator backpressure) are {@link TaskOptions} given
 * per call.
 */
public final class ActorOptions {
  private static final ActorOptions DEFAULTS = builder().build();

  private final String name;
  private final ActorLifetime lifetime;
  private final int maxRestarts;
  private final int maxTaskRetries;
  private final int maxConcurrency;
  private final double numCpus;
  private final Map<String, Double> resources;
  private final NodeId affinityNode;
  private final boolean affinitySoft;

  private ActorOptions(Builder b) {
    this.name = b.name;
    this.lifetime = b.lifetime;
    this.maxRestarts = b.maxRestarts;
    this.maxTaskRetries = b.maxTaskRetries;
    this.maxConcurrency = b.maxConcurrency;
    this.numCpus = b.numCpus;
    this.resources = b.resources;
    this.affinityNode = b.affinityNode;
    this.affinitySoft = b.affinitySoft;
  }

  /** The options used when none are given. */
  public static ActorOptions defaults() {
    return DEFAULTS;
  }

  /** A builder with the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** The actor's name, unique among the cluster's live actors, or null. */
  public String name() {
    return name;
  }

  /** Whether the actor dies with its creator ({@link ActorLifetime#OWNED}, the default). */
  public ActorLifetime lifetime() {
    return lifetime;
  }

  /** How many times the actor is restarted after its process dies (default 0; -1 unlimited). */
  public int maxRestarts() {
    return maxRestarts;
  }

  /**
   * How many times a call in flight when the actor's process died is run again on the restarted
   * instance (default 0; -1 unlimited). Bounded by the restarts left.
   */
  public int maxTaskRetries() {
    return maxTaskRetries;
  }

  /** How many calls may run (or, for async methods, be pending) at once (default 1). */
  public int maxConcurrency() {
    return maxConcurrency;
  }

  /** CPUs held for the actor's whole life (default 0). */
  public double numCpus() {
    return numCpus;
  }

  /** Custom resources held for the actor's whole life. */
  public Map<String, Double> resources() {
    return resources;
  }

  /** The node the actor must (or, if {@link #nodeAffinitySoft()}, should) run on, or null. */
  public NodeId nodeAffinity() {
    return affinityNode;
  }

  /** Whether the node affinity is only a preference. */
  public boolean nodeAffinitySoft() {
    return affinitySoft;
  }

  @Override
  public String toString() {
    return "ActorOptions{name="
        + name
        + ", lifetime="
        + lifetime
        + ", maxRestarts="
        + maxRestarts
        + ", maxTaskRetries="
        + maxTaskRetries
        + ", maxConcurrency="
        + maxConcurrency
        + ", numCpus="
        + numCpus
        + ", resources="
        + resources
        + (affinityNode == null
            ? ""
            : ", nodeAffinity=" + affinityNode + (affinitySoft ? " (soft)" : ""))
        + "}";
  }

  /** Builds {@link ActorOptions}; every setter checks its argument at once. */
  public static final class Builder {
    private String name;
    private ActorLifetime lifetime = ActorLifetime.OWNED;
    private int maxRestarts;
    private int maxTaskRetries;
    private int maxConcurrency = 1;
    private double numCpus;
    private Map<String, Double> resources = Map.of();
    private NodeId affinityNode;
    private boolean affinitySoft;

    private Builder() {}

    /** Names the actor; the name must be unique among live actors. {@code null} clears it. */
    public Builder name(String name) {
      if (name != null && name.isBlank()) {
        throw new IllegalArgumentException("an actor name must not be blank");
      }
      this.name = name;
      return this;
    }

    /** Whether the actor dies with its creator (default {@link ActorLifetime#OWNED}). */
    public Builder lifetime(ActorLifetime lifetime) {
      this.lifetime = Objects.requireNonNull(lifetime, "lifetime");
      return this;
    }

    /** Restarts after a process death: 0 (default) never, -1 without limit. */
    public Builder maxRestarts(int maxRestarts) {
      if (maxRestarts < -1) {
        throw new IllegalArgumentException(
            "maxRestarts must be -1 (unlimited) or >= 0, got " + maxRestarts);
      }
      this.maxRestarts = maxRestarts;
      return this;
    }

    /** Retries of calls in flight when the process died: 0 (default) never, -1 without limit. */
    public Builder maxTaskRetries(int maxTaskRetries) {
      if (maxTaskRetries < -1) {
        throw new IllegalArgumentException(
            "maxTaskRetries must be -1 (unlimited) or >= 0, got " + maxTaskRetries);
      }
      this.maxTaskRetries = maxTaskRetries;
      return this;
    }

    /** Calls that may run or be pending at once; must be >= 1 (default 1). */
    public Builder maxConcurrency(int maxConcurrency) {
      if (maxConcurrency < 1) {
        throw new IllegalArgumentException("maxConcurrency must be >= 1, got " + maxConcurrency);
      }
      this.maxConcurrency = maxConcurrency;
      return this;
    }

    /** CPUs held for the actor's life; a finite value >= 0 (default 0). */
    public Builder numCpus(double numCpus) {
      this.numCpus = ResourceChecks.cpus(numCpus);
      return this;
    }

    /** Custom resources held for the actor's life; each amount must be > 0. */
    public Builder resources(Map<String, Double> resources) {
      this.resources = ResourceChecks.resources(resources);
      return this;
    }

    /**
     * Places the actor on {@code node}: only there ({@code soft=false}; if that node is dead the
     * actor fails to start) or there while it is alive ({@code soft=true}). {@code null} clears it.
     */
    public Builder nodeAffinity(NodeId node, boolean soft) {
      this.affinityNode = node;
      this.affinitySoft = soft;
      return this;
    }

    /** The options. */
    public ActorOptions build() {
      return new ActorOptions(this);
    }
  }
}
