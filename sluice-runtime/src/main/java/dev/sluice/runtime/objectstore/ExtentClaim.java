package dev.sluice.runtime.objectstore;

/**
 * Room a writer claimed at {@code offset} in its extent {@code slot}/{@code generation}: what its
 * seal (or its abort) names so that the node manager can settle the range ({@link WriterExtents}).
 */
public record ExtentClaim(int slot, long generation, long offset) {}
