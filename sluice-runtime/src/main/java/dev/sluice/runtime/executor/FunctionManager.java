package dev.sluice.runtime.executor;

import dev.sluice.FunctionNotFoundException;
import dev.sluice.runtime.rpc.proto.FunctionDescriptor;
import dev.sluice.runtime.serial.ObjectSerializer;
import java.lang.invoke.MethodHandleInfo;
import java.lang.invoke.MethodType;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Resolves a task's {@link FunctionDescriptor} to something this worker can call: the named method
 * of a class on the worker's class path, with a lambda's captured values prepended to the
 * arguments. Resolutions are cached per descriptor. Thread-safe.
 */
final class FunctionManager {
  private final ObjectSerializer serializer;
  private final ConcurrentHashMap<FunctionDescriptor, Invoker> cache = new ConcurrentHashMap<>();

  FunctionManager(ObjectSerializer serializer) {
    this.serializer = serializer;
  }

  /** A resolved function. */
  interface Invoker {
    Object invoke(Object[] args) throws Throwable;
  }

  /**
   * The invoker of {@code fd}.
   *
   * @throws FunctionNotFoundException if its class or method is not on this worker's class path
   */
  Invoker resolve(FunctionDescriptor fd, String where) {
    Invoker cached = cache.get(fd);
    if (cached != null) {
      return cached;
    }
    Invoker inv = load(fd, where);
    cache.putIfAbsent(fd, inv);
    return inv;
  }

  private Invoker load(FunctionDescriptor fd, String where) {
    Class<?> cls;
    try {
      ClassLoader cl = Thread.currentThread().getContextClassLoader();
      cls =
          Class.forName(
              fd.getClassName(), true, cl != null ? cl : ClassLoader.getSystemClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      throw new FunctionNotFoundException(
          "function class "
              + fd.getClassName()
              + " cannot be loaded on "
              + where
              + " ("
              + e
              + "); is it on the workers' class path? "
              + "See SluiceConfig.codeSearchPath",
          e);
    }
    Executable target = find(cls, fd);
    if (target == null) {
      throw new FunctionNotFoundException(
          "method "
              + fd.getClassName()
              + "."
              + fd.getMethodName()
              + fd.getMethodDescriptor()
              + " not found on "
              + where
              + " (the worker has a different version of the class?)");
    }
    target.setAccessible(true);
    Object[] captured =
        fd.getCapturedArgs().isEmpty()
            ? new Object[0]
            : (Object[]) serializer.deserialize(fd.getCapturedArgs().toByteArray());
    int kind = fd.getImplKind();
    if (target instanceof Constructor<?> c) {
      return args -> unwrap(() -> c.newInstance(concat(captured, args)));
    }
    Method m = (Method) target;
    if (Modifier.isStatic(m.getModifiers()) || kind == MethodHandleInfo.REF_invokeStatic) {
      return args -> unwrap(() -> m.invoke(null, concat(captured, args)));
    }
    return args -> {
      Object[] all = concat(captured, args);
      Object receiver = all[0];
      Object[] rest = new Object[all.length - 1];
      System.arraycopy(all, 1, rest, 0, rest.length);
      return unwrap(() -> m.invoke(receiver, rest));
    };
  }

  private static Executable find(Class<?> cls, FunctionDescriptor fd) {
    if (fd.getMethodName().equals("<init>")) {
      for (Constructor<?> c : cls.getDeclaredConstructors()) {
        if (MethodType.methodType(void.class, c.getParameterTypes())
            .toMethodDescriptorString()
            .equals(fd.getMethodDescriptor())) {
          return c;
        }
      }
      return null;
    }
    for (Class<?> c = cls; c != null; c = c.getSuperclass()) {
      for (Method m : c.getDeclaredMethods()) {
        if (m.getName().equals(fd.getMethodName())
            && MethodType.methodType(m.getReturnType(), m.getParameterTypes())
                .toMethodDescriptorString()
                .equals(fd.getMethodDescriptor())) {
          return m;
        }
      }
    }
    for (Method m : cls.getMethods()) {
      if (m.getName().equals(fd.getMethodName())
          && MethodType.methodType(m.getReturnType(), m.getParameterTypes())
              .toMethodDescriptorString()
              .equals(fd.getMethodDescriptor())) {
        return m;
      }
    }
    return null;
  }

  private interface Call {
    Object call() throws ReflectiveOperationException;
  }

  private static Object unwrap(Call call) throws Throwable {
    try {
      return call.call();
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  private static Object[] concat(Object[] a, Object[] b) {
    if (a.length == 0) {
      return b;
    }
    Object[] out = new Object[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
