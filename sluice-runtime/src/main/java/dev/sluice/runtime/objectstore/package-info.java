/**
 * The node's shared-memory object store (Ray's plasma, DESIGN "Object store"). {@link
 * SharedMemoryStore}, owned by the node manager, is one file in {@code /dev/shm} and keeps only
 * metadata: the object table and each object's lifecycle (sealed or not, pins, a deferred delete).
 * Where bytes go is {@link StoreSpace}'s: the free list ({@link RangeAllocator}), making room
 * ({@link Spiller}, {@link GcRequests}), warm pages ({@link Prefaulter}) and the books on writer
 * extents ({@link WriterExtents}, shared with writers through the {@link ExtentTable} file); the
 * file and its mapping are {@link StoreFile}'s.
 *
 * <p>{@link SharedMemoryClient} is one process's mapping of the store: it writes (in its writer
 * extent, {@link ExtentWriter}, or in a range created per object), pins and reads (in place through
 * {@link PinnedViews}), and fetches objects of other nodes. It reaches the node manager through
 * {@link StoreCalls}, in this package's own types ({@link StoreLocation}, {@link ExtentGrant},
 * {@link ExtentClaim}): {@code storerpc.ObjectStoreRpcClient} makes the calls over RPC, {@link
 * LocalStoreCalls} on the store itself in the node manager's own process. {@link
 * MappedObjectBuffer} and {@link HeapObjectBuffer} are what {@code Sluice.getBuffer} returns;
 * {@link OrphanedStoreFile} removes the file of a node manager that was killed.
 *
 * <p>Threads: the {@link SharedMemoryStore}'s monitor is the one lock of the node's side: every
 * public store method is {@code synchronized}, and it guards the object table, {@link StoreSpace}
 * and all its parts (spill and restore I/O included); the prefaulter's background thread takes it
 * too. {@link SharedMemoryClient} is thread-safe; its blocking calls ({@code write}, {@code pin})
 * must not run on transport threads, and {@link ExtentWriter}'s lock serializes one process's
 * claims. The extent table is shared between processes through atomic operations only.
 *
 * <p>Depends on {@code common} only: no protobuf, gRPC or generated protocol types (the RPC edge is
 * {@code storerpc}); it must not depend on {@code node}, {@code owner} or {@code core}, which use
 * it.
 */
package dev.sluice.runtime.objectstore;
