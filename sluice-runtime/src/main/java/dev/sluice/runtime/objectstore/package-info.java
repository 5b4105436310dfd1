/**
 * The node's shared-memory object store (Ray's plasma, DESIGN "Object store"). {@link
 * SharedMemoryStore}, owned by the node manager, is one file in {@code /dev/shm} and keeps only
 * metadata: which range holds which object, sealed or not, pins, spilled copies, and the books on
 * writer extents ({@link WriterExtents}, shared with writers through the {@link ExtentTable} file).
 * {@link SharedMemoryClient} is one process's mapping of the store and its create, seal, pin,
 * release and delete calls; {@link ObjectStoreService} serves those calls for the node manager.
 * {@link MappedObjectBuffer} and {@link HeapObjectBuffer} are what {@code Sluice.getBuffer}
 * returns; {@link OrphanedStoreFile} removes the file of a node manager that was killed.
 *
 * <p>Threads: every {@link SharedMemoryStore} method is {@code synchronized} (spill and restore I/O
 * included); one background thread pre-faults the pool. {@link SharedMemoryClient} is thread-safe;
 * its blocking calls ({@code write}, {@code pin}) must not run on transport threads. The extent
 * table is shared between processes through atomic operations only.
 *
 * <p>Depends on {@code common} and {@code rpc} only; it must not depend on {@code node}, {@code
 * owner} or {@code core}, which use it.
 */
package dev.sluice.runtime.objectstore;
