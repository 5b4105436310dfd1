/**
 * Object transfer between nodes (DESIGN "Clusters and object transfer"): {@link ObjectManager},
 * owned by a node manager, pulls objects from other nodes' stores into its own ({@code
 * FetchObject}) and serves its store's objects to them. {@link ObjectPull} is one transfer into
 * this store; {@link InFlightBudget} bounds the bytes being pulled; without TLS the bytes travel
 * over the plain TCP data channel ({@link ObjectDataServer}, {@code sendfile}), with TLS as gRPC
 * chunks ({@link ChunkSendStream} sends, {@link ChunkPullStream} receives, {@link ChunkMarshaller}
 * parses). Pulled copies are secondary: the store evicts them, reference counting never frees them.
 * A failed transfer is an {@link ObjectTransferException}; gRPC is confined to the two stream
 * adaptors and the marshaller (the node's gRPC service calls the manager).
 *
 * <p>Threads: {@code fetch} and {@code pullObject} run on transport threads and never block; each
 * pull runs on a virtual thread that alone creates, writes, seals or deletes its local entry; the
 * data channel accepts on a virtual thread and serves each connection on one. The manager's tables
 * are guarded by its monitor; the store's lock guards pins.
 *
 * <p>Depends on {@code objectstore} and {@code rpc} only; it must not depend on {@code node} (which
 * owns it), {@code owner} or {@code core}.
 */
package dev.sluice.runtime.objectmanager;
