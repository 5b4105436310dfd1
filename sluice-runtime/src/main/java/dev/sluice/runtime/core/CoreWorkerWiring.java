package dev.sluice.runtime.core;

import com.google.protobuf.ByteString;
import dev.sluice.ObjectRef;
import dev.sluice.runtime.actor.ActorTableClient;
import dev.sluice.runtime.actor.Actors;
import dev.sluice.runtime.objectstore.SharedMemoryClient;
import dev.sluice.runtime.objectstore.SharedMemoryStore;
import dev.sluice.runtime.owner.DependencyResolver;
import dev.sluice.runtime.owner.ObjectRefImpl;
import dev.sluice.runtime.owner.ReferenceCounter;
import dev.sluice.runtime.owner.TaskManager;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.serial.ObjectSerializer;
import dev.sluice.runtime.serial.RefCodec;
import dev.sluice.runtime.state.TaskEventClient;
import dev.sluice.runtime.state.TaskEventSampling;
import dev.sluice.runtime.state.TaskEvents;
import dev.sluice.runtime.storerpc.ObjectStoreRpcClient;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Supplier;

/**
 * Builds the core worker's parts whose construction is more than a constructor call: the serializer
 * (with the codec that counts refs as they are serialized and deserialized), the client of the
 * node's object store, and the actor side. It owns nothing: {@link CoreWorker} holds what these
 * return.
 *
 * <p>Threads: called on the thread constructing the core worker.
 */
final class CoreWorkerWiring {

  private CoreWorkerWiring() {}

  /**
   * The process's serializer. Refs are encoded and decoded through the reference table that {@code
   * refs} returns when a ref is serialized or deserialized (the table is made after the
   * serializer).
   */
  static ObjectSerializer serializer(CoreWorkerOptions options, Supplier<ReferenceCounter> refs) {
    return new ObjectSerializer(
        options.serializationAllowList(),
        new RefCodec() {
          @Override
          public byte[] encode(ObjectRef<?> ref) {
            ObjectRefImpl<?> r = (ObjectRefImpl<?>) ref;
            refs.get().noteSerialized(r);
            return r.encode();
          }

          @Override
          public ObjectRef<?> decode(byte[] encoded) {
            return refs.get().newRef(ObjectRefImpl.decodeInfo(encoded));
          }

          @Override
          public Class<?> refClass() {
            return ObjectRefImpl.class;
          }
        });
  }

  /**
   * The client of this node's object store: used directly if the node manager runs in this process
   * ({@code localStore} not null), else mapped from the store's file and reached over RPC.
   */
  static SharedMemoryClient sharedStore(
      CoreWorkerOptions options, ChannelPool channels, SharedMemoryStore localStore) {
    ObjectStoreRpcClient storeCalls =
        new ObjectStoreRpcClient(
            channels.get(options.nodeManagerTarget()), options.nodeId(), options.workerId());
    return localStore != null
        ? SharedMemoryClient.inProcess(
            options.nodeId(), localStore, storeCalls, options.nodeManagerTarget())
        : SharedMemoryClient.map(
            options.nodeId(),
            options.objectStoreFile(),
            options.objectStoreCapacity(),
            storeCalls,
            options.nodeManagerTarget());
  }

  /**
   * The actor side: the actors this process created or calls, reached through the control service.
   */
  static Actors actors(
      CoreWorkerOptions options,
      ActorTableClient actorTable,
      ChannelPool channels,
      TaskManager taskManager,
      ObjectFutures futures,
      Address self,
      ScheduledExecutorService timers) {
    return new Actors(
        actorTable,
        channels,
        taskManager,
        new DependencyResolver(taskManager, futures::resolve),
        self,
        options.nodeManagerTarget(),
        timers,
        options.unschedulableTimeout());
  }

  /**
   * The process's task event recorder (the state API), reporting to the control service; it stops
   * recording if the control service keeps no task events.
   */
  static TaskEvents taskEvents(CoreWorkerOptions options, ChannelPool channels) {
    return new TaskEvents(
        new TaskEventClient(() -> channels.get(options.controlTarget())),
        ByteString.copyFrom(options.workerId().toBytes()),
        ByteString.copyFrom(options.nodeId().toBytes()),
        TaskEvents.DEFAULT_CAPACITY,
        TaskEvents.DEFAULT_BATCH_SIZE,
        TaskEvents.DEFAULT_INTERVAL,
        new TaskEventSampling(TaskEventSampling.DEFAULT_PER_SECOND));
  }
}
