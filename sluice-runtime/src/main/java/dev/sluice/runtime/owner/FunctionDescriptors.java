package dev.sluice.runtime.owner;

import com.google.protobuf.ByteString;
import dev.sluice.SerializationException;
import dev.sluice.runtime.rpc.proto.FunctionDescriptor;
import dev.sluice.runtime.serial.ObjectSerializer;
import java.io.Serializable;
import java.lang.invoke.MethodHandleInfo;
import java.lang.invoke.SerializedLambda;
import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * Turns a user's function object into the {@link FunctionDescriptor} a worker resolves: for a
 * lambda or method reference, the implementing method named by its {@code SerializedLambda} (plus
 * any captured values); for any other {@code Serializable} function object, its {@code apply}
 * method with the object itself as the captured receiver.
 *
 * <p>Thread-safe; descriptors of non-capturing lambdas are cached per lambda class.
 */
public final class FunctionDescriptors {
  private final ObjectSerializer serializer;
  private final ClassValue<Object> cache =
      new ClassValue<>() {
        @Override
        protected Object computeValue(Class<?> type) {
          return new Object[1];
        }
      };

  /** Descriptors whose captured values are serialized with {@code serializer}. */
  public FunctionDescriptors(ObjectSerializer serializer) {
    this.serializer = serializer;
  }

  /**
   * A described function and its display name ({@code Class.method}). The descriptor is shared by
   * every task of the function: its strings are encoded to UTF-8 once here (protobuf keeps the
   * encoded form), not again in every task message that carries it.
   */
  public record Described(FunctionDescriptor descriptor, String displayName) {
    public Described {
      descriptor.getClassNameBytes();
      descriptor.getMethodNameBytes();
      descriptor.getMethodDescriptorBytes();
    }
  }

  /** Describes {@code function}. */
  public Described describe(Serializable function) {
    Object[] slot = (Object[]) cache.get(function.getClass());
    Described cached = (Described) slot[0];
    if (cached != null) {
      return cached;
    }
    SerializedLambda lambda = serializedLambda(function);
    Described d;
    if (lambda == null) {
      Method apply =
          Arrays.stream(function.getClass().getMethods())
              .filter(m -> m.getName().equals("apply") && !m.isBridge() && !m.isSynthetic())
              .findFirst()
              .orElseThrow(
                  () ->
                      new IllegalArgumentException(
                          function.getClass().getName() + " has no apply method"));
      String name = function.getClass().getSimpleName() + ".apply";
      d =
          new Described(
              FunctionDescriptor.newBuilder()
                  .setClassName(apply.getDeclaringClass().getName())
                  .setMethodName("apply")
                  .setMethodDescriptor(descriptorOf(apply))
                  .setImplKind(MethodHandleInfo.REF_invokeVirtual)
                  .setCapturedArgs(captured(name, new Object[] {function}, "function object"))
                  .build(),
              name);
      return d;
    }
    String className = lambda.getImplClass().replace('/', '.');
    Object[] captured = new Object[lambda.getCapturedArgCount()];
    for (int i = 0; i < captured.length; i++) {
      captured[i] = lambda.getCapturedArg(i);
    }
    FunctionDescriptor.Builder b =
        FunctionDescriptor.newBuilder()
            .setClassName(className)
            .setMethodName(lambda.getImplMethodName())
            .setMethodDescriptor(lambda.getImplMethodSignature())
            .setImplKind(lambda.getImplMethodKind());
    String simple = className.substring(className.lastIndexOf('.') + 1);
    String name = simple + "." + lambda.getImplMethodName();
    if (captured.length > 0) {
      b.setCapturedArgs(
          captured(
              name,
              captured,
              isBoundReference(lambda)
                  ? "receiver of the bound method reference"
                  : "value the lambda captures"));
    }
    d = new Described(b.build(), name);
    if (captured.length == 0) {
      slot[0] = d;
    }
    return d;
  }

  /**
   * The serialized captured values of function {@code name}. If they cannot be serialized, the
   * failure names the function and the class of the first value that fails on its own (not the
   * {@code Object[]} that holds them).
   */
  private ByteString captured(String name, Object[] captured, String firstRole) {
    try {
      return ByteString.copyFrom(serializer.serialize(captured));
    } catch (SerializationException whole) {
      for (int i = 0; i < captured.length; i++) {
        Object v = captured[i];
        String role = i == 0 ? firstRole : "value the lambda captures";
        String what =
            "the "
                + role
                + " (class "
                + (v == null ? "null" : v.getClass().getName())
                + ") of function "
                + name;
        try {
          serializer.serialize(v, what);
        } catch (SerializationException e) {
          throw new SerializationException(
              e.getMessage()
                  + ". Pass the value to the task as an"
                  + " argument or capture only serializable values",
              e.getCause());
        }
      }
      throw new SerializationException(
          "Cannot serialize the values function " + name + " captures: " + whole.getMessage(),
          whole.getCause());
    }
  }

  /** A method reference bound to a receiver ({@code obj::method}): the receiver is captured. */
  private static boolean isBoundReference(SerializedLambda lambda) {
    int kind = lambda.getImplMethodKind();
    return !lambda.getImplMethodName().startsWith("lambda$")
        && (kind == MethodHandleInfo.REF_invokeVirtual
            || kind == MethodHandleInfo.REF_invokeInterface);
  }

  private static SerializedLambda serializedLambda(Serializable function) {
    try {
      Method writeReplace = function.getClass().getDeclaredMethod("writeReplace");
      writeReplace.setAccessible(true);
      Object replaced = writeReplace.invoke(function);
      return replaced instanceof SerializedLambda sl ? sl : null;
    } catch (NoSuchMethodException e) {
      return null;
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new SerializationException(
          "cannot describe function " + function.getClass().getName() + ": " + e, e);
    }
  }

  static String descriptorOf(Method m) {
    return java.lang.invoke.MethodType.methodType(m.getReturnType(), m.getParameterTypes())
        .toMethodDescriptorString();
  }
}
