package dev.sluice.runtime.serial;

import dev.sluice.ObjectRef;
import dev.sluice.ObjectTooLargeException;
import dev.sluice.SerializationException;
import dev.sluice.runtime.serial.ClassAllowList.ClassNotAllowedException;
import java.lang.reflect.Modifier;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.apache.fory.Fory;
import org.apache.fory.ThreadSafeFory;
import org.apache.fory.context.ReadContext;
import org.apache.fory.context.WriteContext;
import org.apache.fory.memory.MemoryBuffer;
import org.apache.fory.resolver.TypeResolver;
import org.apache.fory.serializer.Serializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns task arguments, return values and {@code put} values into bytes and back, with Apache Fory
 * in its Java-native mode. Create one per process and share it: it is thread-safe (a fixed pool of
 * Fory instances, so it suits virtual threads too) and costly to build, which it does on a set-up
 * thread of its own while its creator goes on; the first call waits for the set-up.
 *
 * <p><b>Safety.</b> Only classes on the allow-list are serialized or deserialized:
 *
 * <ul>
 *   <li>Sluice's own classes ({@code dev.sluice.}) and the configured entries (an entry ending in
 *       {@code .} or {@code $} is a prefix; any other entry names a package or a class);
 *   <li>JDK value types: boxed primitives, {@code String}, {@code Optional}, {@code UUID}, {@code
 *       Date}, {@code Locale}, {@code Currency}, {@code BitSet}, atomics, {@code URI}, {@code
 *       InetAddress}, {@code InetSocketAddress}, {@code Pattern}, all of {@code java.time} and
 *       {@code java.math};
 *   <li>the collections, maps, entries and comparators of {@code java.util} and {@code
 *       java.util.concurrent} (not their sub-packages), JDK exceptions (not {@code java.rmi}/{@code
 *       java.beans}), and arrays of allowed types;
 *   <li>the types Fory pre-registers (JDK collections and values, Guava immutable collections,
 *       serialized lambdas, whose capturing class is checked).
 * </ul>
 *
 * <p>The check is on the class name, before the class is loaded: deserialization never loads or
 * instantiates a class outside the list, and serialization refuses the same classes early, on the
 * sending side. Refused classes, classes Fory never serializes (threads, sockets, reflection
 * objects...) and non-{@code Serializable} JDK classes (streams...) fail with a {@link
 * SerializationException} naming the class. User classes in allowed packages need not implement
 * {@code Serializable}; records, enums, arrays and nested generic collections work.
 *
 * <p><b>Format.</b> Shared references and cycles are preserved (as Java serialization and pickle
 * do). The schema-consistent mode is used (no per-message field metadata): writer and reader must
 * have the same version of each class, as the processes of one job do; a mismatched field layout is
 * not detected reliably. Classes with {@code writeObject}/{@code readObject} go through Fory's
 * JDK-compatible path. Values nested more than {@value #MAX_DEPTH} levels deep are refused.
 *
 * <p><b>Refs.</b> With a {@link RefCodec}, instances of {@link RefCodec#refClass()} anywhere in a
 * value are written as {@link RefCodec#encode} bytes and rebuilt with {@link RefCodec#decode}.
 */
public final class ObjectSerializer {
  /** Deepest nesting accepted when reading; deeper graphs would risk a stack overflow. */
  public static final int MAX_DEPTH = 1000;

  private static final Logger LOG = LoggerFactory.getLogger(ObjectSerializer.class);
  private static final int MAX_REASON_CHARS = 300;

  static {
    // Fory logs to stdout by default; route it through SLF4J like the rest of Sluice.
    org.apache.fory.logging.LoggerFactory.useSlf4jLogging(true);
  }

  /** Completed by the set-up thread the constructor starts. */
  private final CompletableFuture<ThreadSafeFory> fory = new CompletableFuture<>();

  private final ClassAllowList allowList;

  /**
   * A serializer that allows {@code allowedPackagePrefixes} (e.g. {@code "com.example."}) besides
   * the built-in allow-list, loading classes through the calling thread's context class loader.
   *
   * @param refCodec how refs inside values travel, or null to give refs no special handling
   * @throws IllegalArgumentException if an entry is blank or the codec's class is not a concrete
   *     {@link ObjectRef}
   */
  public ObjectSerializer(List<String> allowedPackagePrefixes, RefCodec refCodec) {
    this(allowedPackagePrefixes, refCodec, null);
  }

  /**
   * Like {@link #ObjectSerializer(List, RefCodec)}, loading classes through {@code classLoader}
   * (null: the calling thread's context class loader, else this class's loader). The current
   * thread's context class loader is tried when a class is not found there.
   */
  public ObjectSerializer(
      List<String> allowedPackagePrefixes, RefCodec refCodec, ClassLoader classLoader) {
    this.allowList = new ClassAllowList(allowedPackagePrefixes);
    ClassLoader loader = classLoader;
    if (loader == null) {
      loader = Thread.currentThread().getContextClassLoader();
    }
    if (loader == null) {
      loader = ObjectSerializer.class.getClassLoader();
    }
    Class<?> refClass = null;
    if (refCodec != null) {
      refClass = Objects.requireNonNull(refCodec.refClass(), "refCodec.refClass()");
      if (!ObjectRef.class.isAssignableFrom(refClass)
          || refClass.isInterface()
          || Modifier.isAbstract(refClass.getModifiers())) {
        throw new IllegalArgumentException(
            "refCodec.refClass() must be a concrete ObjectRef class, got " + refClass.getName());
      }
    }
    // Building Fory (~0.1 s of a worker's start-up, most of it class initialization) runs on a
    // thread of its own while the caller goes on (binding its server, say); the first
    // serialization waits for it.
    ClassLoader foryLoader = loader;
    Class<?> codecClass = refClass;
    Thread.ofPlatform()
        .daemon()
        .name("sluice-serializer-setup")
        .start(
            () -> {
              try {
                fory.complete(build(allowList, foryLoader, refCodec, codecClass));
              } catch (Throwable t) {
                fory.completeExceptionally(t);
              }
            });
  }

  private static ThreadSafeFory build(
      ClassAllowList checker, ClassLoader loader, RefCodec refCodec, Class<?> refClass) {
    ThreadSafeFory f =
        Fory.builder()
            .withXlang(false)
            .withRefTracking(true)
            .withCompatible(false)
            // Fory 1.6.0 fails every class with writeObject/readObject when this check is on.
            .withClassVersionCheck(false)
            .withDeserializeUnknownClass(false)
            .requireClassRegistration(false)
            .withTypeChecker(
                (resolver, className) -> {
                  if (!checker.isAllowed(className)) {
                    throw new ClassNotAllowedException(className);
                  }
                  return true;
                })
            .suppressClassRegistrationWarnings(true)
            .withAsyncCompilation(false)
            .withMaxDepth(MAX_DEPTH)
            // Fory's default (128 MiB) would refuse legitimate large values; a graph larger than
            // the
            // heap cannot be materialized anyway, so refuse it cleanly rather than run out of
            // memory.
            .withMaxGraphMemoryBytes(Runtime.getRuntime().maxMemory())
            .withClassLoader(loader)
            .buildThreadSafeFory();
    if (refCodec != null) {
      f.registerSerializer(refClass, resolver -> new RefSerializer(resolver, refClass, refCodec));
    }
    return f;
  }

  /** The Fory instance pool, waiting for its set-up if that has not finished yet. */
  private ThreadSafeFory fory() {
    ThreadSafeFory f = fory.getNow(null);
    return f != null ? f : fory.join();
  }

  /** The user's allow-list entries this serializer was built with. */
  public List<String> allowedPackagePrefixes() {
    return allowList.configured();
  }

  /**
   * The bytes of {@code value} (which may be null).
   *
   * @throws SerializationException if the value, or anything it references, cannot be serialized or
   *     is of a class outside the allow-list; the message names the class
   * @throws ObjectTooLargeException if its serialized form would exceed 2 GiB
   */
  public byte[] serialize(Object value) {
    return serialize(value, "a value of " + describe(value));
  }

  /**
   * Like {@link #serialize(Object)}, with {@code what} describing the value in the failure message
   * ({@code "Cannot serialize <what>: <reason>"}).
   */
  public byte[] serialize(Object value, String what) {
    try {
      return fory().serialize(value);
    } catch (Throwable t) {
      ObjectTooLargeException tooLarge = SerializedSizeLimit.exceeded(what, t);
      if (tooLarge != null) {
        throw tooLarge;
      }
      throw failure("serialize " + what, t);
    }
  }

  /**
   * Rebuilds a value from {@link #serialize} output.
   *
   * @throws SerializationException if the bytes are corrupt or name a class that is outside the
   *     allow-list or missing here; the message names the class
   */
  public Object deserialize(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    return deserialize(bytes, 0, bytes.length);
  }

  /** Like {@link #deserialize(byte[])}, reading {@code length} bytes from {@code offset}. */
  public Object deserialize(byte[] bytes, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, bytes.length);
    if (length == 0) {
      throw new SerializationException("Cannot deserialize a value: no bytes", null);
    }
    try {
      return fory().deserialize(MemoryBuffer.fromByteArray(bytes, offset, length));
    } catch (Throwable t) {
      throw failure("deserialize a value (" + length + " bytes)", t);
    }
  }

  /**
   * Like {@link #deserialize(byte[])}, reading the remaining bytes of {@code buffer} (which may be
   * a direct view of shared memory) without copying them first.
   */
  public Object deserialize(java.nio.ByteBuffer buffer) {
    int length = buffer.remaining();
    if (length == 0) {
      throw new SerializationException("Cannot deserialize a value: no bytes", null);
    }
    try {
      return fory().deserialize(MemoryBuffer.fromByteBuffer(buffer));
    } catch (Throwable t) {
      throw failure("deserialize a value (" + length + " bytes)", t);
    }
  }

  private static String describe(Object value) {
    return value == null ? "null" : "class " + value.getClass().getName();
  }

  private static SerializationException failure(String what, Throwable t) {
    if (t instanceof VirtualMachineError && !(t instanceof StackOverflowError)) {
      throw (VirtualMachineError) t;
    }
    String reason = reason(t);
    LOG.debug("Cannot {}: {}", what, reason);
    return new SerializationException("Cannot " + what + ": " + reason, t);
  }

  private static String reason(Throwable t) {
    Throwable root = t;
    int guard = 0;
    for (Throwable c = t; c != null && guard < 64; c = c.getCause(), guard++) {
      if (c instanceof ClassNotAllowedException e) {
        return e.getMessage();
      }
      if (c instanceof StackOverflowError) {
        return "the value is nested too deeply (stack overflow)";
      }
      root = c;
    }
    String m = root.getMessage();
    if (m == null) {
      return root.getClass().getName();
    }
    int nl = m.indexOf('\n');
    if (nl >= 0) {
      m = m.substring(0, nl);
    }
    if (m.length() > MAX_REASON_CHARS) {
      m = m.substring(0, MAX_REASON_CHARS) + "...";
    }
    return m;
  }

  /** Writes a ref as its codec's bytes; Fory's ref tracking dedups repeats of one instance. */
  private static final class RefSerializer extends Serializer<Object> {
    private final RefCodec codec;

    @SuppressWarnings({"unchecked", "rawtypes"})
    RefSerializer(TypeResolver resolver, Class<?> refClass, RefCodec codec) {
      super(resolver.getConfig(), (Class) refClass);
      this.codec = codec;
    }

    @Override
    public void write(WriteContext ctx, Object value) {
      byte[] encoded = codec.encode((ObjectRef<?>) value);
      if (encoded == null) {
        throw new IllegalStateException("RefCodec.encode returned null for " + value);
      }
      ctx.getBuffer().writeBytesWithSize(encoded);
    }

    @Override
    public Object read(ReadContext ctx) {
      byte[] encoded = ctx.getBuffer().readBytesAndSize();
      ObjectRef<?> ref = codec.decode(encoded);
      if (ref == null) {
        throw new IllegalStateException("RefCodec.decode returned null");
      }
      return ref;
    }
  }
}
