package dev.sluice.runtime.common;

import dev.sluice.ActorLifetime;

/**
 * The one mapping between {@link ActorLifetime} and its wire form ({@code ActorLifetime} in {@code
 * sluice.proto}, whose numbers follow the public enum's order: {@code OWNED} 0, {@code DETACHED}
 * 1). Stateless.
 */
public final class ActorLifetimes {
  private ActorLifetimes() {}

  /** The wire number of {@code lifetime}. */
  public static int toWire(ActorLifetime lifetime) {
    return lifetime.ordinal();
  }

  /** The lifetime wire number {@code number} stands for. */
  public static ActorLifetime fromWire(int number) {
    return ActorLifetime.values()[number];
  }
}
