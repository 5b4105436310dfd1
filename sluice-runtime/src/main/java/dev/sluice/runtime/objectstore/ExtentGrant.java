package dev.sluice.runtime.objectstore;

/**
 * A writer extent granted to a client: {@code [offset, offset + size)} of the store, in slot {@code
 * slot} of the {@link ExtentTable} under generation {@code generation} (see {@link WriterExtents}).
 */
public record ExtentGrant(int slot, long generation, long offset, long size) {}
