package dev.sluice.runtime.serial;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InvalidClassException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries a task's exception to the caller with JDK serialization, which rebuilds any {@code
 * Serializable} exception faithfully (class, message, cause chain, suppressed exceptions, stack
 * trace, custom fields) without Fory needing access to {@code Throwable}'s internals.
 *
 * <p>Reading is guarded twice. Every class in the stream must be allowed by the same allow-list as
 * {@link ObjectSerializer} (Sluice's classes, JDK exceptions, the JDK's value and collection types
 * such as the {@code StackTraceElement[]} and lists a {@code Throwable} holds, and the user's
 * prefixes), exception classes included: a user exception outside the allow-list is never loaded,
 * let alone instantiated, and the caller sees a {@link dev.sluice.RemoteException} instead. The
 * name is checked before the class is loaded; an {@link ObjectInputFilter} then checks the resolved
 * classes again and bounds depth, reference count and array sizes. Dynamic proxies are refused.
 *
 * <p>Both methods return null instead of throwing, so that the runtime can fall back to a {@link
 * dev.sluice.RemoteException} that carries the class name, message and stack text. Stateless and
 * thread-safe.
 */
public final class ThrowableCodec {
  private static final Logger LOG = LoggerFactory.getLogger(ThrowableCodec.class);
  private static final long MAX_DEPTH = 2_000;
  private static final long MAX_REFERENCES = 1_000_000;
  private static final long MAX_ARRAY_LENGTH = 10_000_000;

  private ThrowableCodec() {}

  /**
   * The JDK-serialized form of {@code t}, or null if it cannot be serialized (for example, it or
   * one of its causes holds a non-{@code Serializable} field).
   */
  public static byte[] serializeThrowable(Throwable t) {
    Objects.requireNonNull(t, "t");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(1024);
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(t);
    } catch (IOException | RuntimeException | StackOverflowError | LinkageError e) {
      LOG.debug(
          "{} is not serializable, callers will see a RemoteException: {}",
          t.getClass().getName(),
          e.toString());
      return null;
    }
    return bytes.toByteArray();
  }

  /**
   * Rebuilds an exception from {@link #serializeThrowable} output, resolving classes through the
   * current thread's context class loader (else this class's loader).
   *
   * @param allowedPackagePrefixes the user's allow-list entries, as for {@link ObjectSerializer}
   * @return the exception, or null if the bytes are corrupt, a class is missing or refused, or the
   *     result is not a {@code Throwable}
   */
  public static Throwable deserializeThrowable(byte[] bytes, List<String> allowedPackagePrefixes) {
    return deserializeThrowable(bytes, allowedPackagePrefixes, null);
  }

  /**
   * Like {@link #deserializeThrowable(byte[], List)}, resolving classes through {@code classLoader}
   * (null: the current thread's context class loader, else this class's).
   */
  public static Throwable deserializeThrowable(
      byte[] bytes, List<String> allowedPackagePrefixes, ClassLoader classLoader) {
    Objects.requireNonNull(bytes, "bytes");
    ClassAllowList allowList = new ClassAllowList(allowedPackagePrefixes);
    ClassLoader loader = classLoader;
    if (loader == null) {
      loader = Thread.currentThread().getContextClassLoader();
    }
    if (loader == null) {
      loader = ThrowableCodec.class.getClassLoader();
    }
    try (FilteringInputStream in =
        new FilteringInputStream(new ByteArrayInputStream(bytes), loader, allowList)) {
      in.setObjectInputFilter(info -> check(info, allowList));
      Object o = in.readObject();
      if (o instanceof Throwable t) {
        return t;
      }
      LOG.debug(
          "serialized exception holds a {}, not a Throwable",
          o == null ? "null" : o.getClass().getName());
      return null;
    } catch (IOException
        | ClassNotFoundException
        | RuntimeException
        | StackOverflowError
        | LinkageError e) {
      LOG.debug("cannot rebuild serialized exception: {}", e.toString());
      return null;
    }
  }

  private static ObjectInputFilter.Status check(
      ObjectInputFilter.FilterInfo info, ClassAllowList allowList) {
    if (info.depth() > MAX_DEPTH
        || info.references() > MAX_REFERENCES
        || info.arrayLength() > MAX_ARRAY_LENGTH) {
      return ObjectInputFilter.Status.REJECTED;
    }
    Class<?> c = info.serialClass();
    if (c == null) {
      return ObjectInputFilter.Status.UNDECIDED;
    }
    while (c.isArray()) {
      c = c.getComponentType();
    }
    if (c.isPrimitive() || allowList.isAllowed(c.getName())) {
      return ObjectInputFilter.Status.ALLOWED;
    }
    LOG.debug(
        "refusing class {} in a serialized exception: {}",
        c.getName(),
        ClassAllowList.refusal(c.getName()));
    return ObjectInputFilter.Status.REJECTED;
  }

  /**
   * Resolves allowed classes through one loader, never initializing them; refuses any other class
   * by name before loading it, and refuses proxies.
   */
  private static final class FilteringInputStream extends ObjectInputStream {
    private final ClassLoader loader;
    private final ClassAllowList allowList;

    FilteringInputStream(InputStream in, ClassLoader loader, ClassAllowList allowList)
        throws IOException {
      super(in);
      this.loader = loader;
      this.allowList = allowList;
    }

    @Override
    protected Class<?> resolveClass(ObjectStreamClass desc)
        throws IOException, ClassNotFoundException {
      if (primitive(desc.getName()) == null && !allowList.isAllowed(desc.getName())) {
        throw new InvalidClassException(desc.getName(), ClassAllowList.refusal(desc.getName()));
      }
      try {
        return Class.forName(desc.getName(), false, loader);
      } catch (ClassNotFoundException e) {
        Class<?> primitive = primitive(desc.getName());
        if (primitive != null) {
          return primitive;
        }
        throw e;
      }
    }

    @Override
    protected Class<?> resolveProxyClass(String[] interfaces) throws IOException {
      throw new InvalidClassException("dynamic proxies are not allowed in serialized exceptions");
    }

    private static Class<?> primitive(String name) {
      return switch (name) {
        case "boolean" -> boolean.class;
        case "byte" -> byte.class;
        case "char" -> char.class;
        case "short" -> short.class;
        case "int" -> int.class;
        case "long" -> long.class;
        case "float" -> float.class;
        case "double" -> double.class;
        case "void" -> void.class;
        default -> null;
      };
    }
  }
}
