package dev.sluice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Serializable;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Checks the overloads and functional interfaces that the build generates (CallsGenerator), so that
 * a broken generator fails the build: per call and arity, one overload for each choice of value or
 * {@link ObjectRef} at each argument position, each typed after its function's type parameters.
 */
class TaskCallsOverloadsTest {
  private static final int MAX_ARITY = 6;

  @ParameterizedTest(name = "{0}.{1} takes {2}N")
  @CsvSource({
    "TaskCalls, task, Func, 0",
    "TaskCalls, generator, GeneratorFunc, 0",
    "TaskCalls, asyncGenerator, PublisherFunc, 0",
    "TaskCalls, actor, Func, 0",
    "ActorCalls, task, ActorFunc, 1",
    "ActorCalls, asyncTask, ActorAsyncFunc, 1",
    "ActorCalls, generator, ActorGeneratorFunc, 1",
    "ActorCalls, asyncGenerator, ActorPublisherFunc, 1"
  })
  void eachArityHasOneOverloadPerChoiceOfObjectRefPositions(
      String callClass, String method, String func, int fixed) throws ClassNotFoundException {
    boolean isStatic = callClass.equals("TaskCalls");
    List<Method> all =
        Arrays.stream(Class.forName("dev.sluice." + callClass).getDeclaredMethods())
            .filter(m -> m.getName().equals(method))
            .toList();
    assertEquals((1 << (MAX_ARITY + 1)) - 1, all.size(), method + ": overloads of arity 0.." + 6);
    for (int n = 0; n <= MAX_ARITY; n++) {
      Class<?> funcType = Class.forName("dev.sluice." + func + n);
      int arity = n;
      List<Method> overloads =
          all.stream().filter(m -> m.getParameterCount() == arity + 1).toList();
      assertEquals(1 << n, overloads.size(), method + " of arity " + n);
      Set<Integer> refPositions = new HashSet<>();
      for (Method m : overloads) {
        assertTrue(
            Modifier.isPublic(m.getModifiers()) && Modifier.isStatic(m.getModifiers()) == isStatic,
            m::toString);
        assertEquals(funcType, m.getParameterTypes()[0], m.toString());
        refPositions.add(objectRefPositions(m, n, fixed));
      }
      assertEquals(
          1 << n,
          refPositions.size(),
          method + " of arity " + n + ": distinct ObjectRef positions");
    }
  }

  /**
   * Which argument positions of {@code m} take an ObjectRef, as a bit mask; asserts that argument i
   * is typed {@code Ai} or {@code ObjectRef<Ai>} with {@code Ai} the function's i-th type argument.
   */
  private static int objectRefPositions(Method m, int n, int fixed) {
    Type[] funcArgs =
        ((ParameterizedType) m.getGenericParameterTypes()[0]).getActualTypeArguments();
    assertEquals(fixed + n + 1, funcArgs.length, m.toString());
    int mask = 0;
    for (int i = 0; i < n; i++) {
      Type param = m.getGenericParameterTypes()[i + 1];
      Type valueType = param;
      if (param instanceof ParameterizedType ref) {
        assertEquals(ObjectRef.class, ref.getRawType(), m + " argument " + i);
        valueType = ref.getActualTypeArguments()[0];
        mask |= 1 << i;
      }
      assertTrue(valueType instanceof TypeVariable<?>, m + " argument " + i);
      assertEquals(
          funcArgs[fixed + i], valueType, m + " argument " + i + " is the function's A" + i);
    }
    return mask;
  }

  @ParameterizedTest(name = "{0}N returns {1}")
  @CsvSource({
    "Func, java.lang.Object, 0",
    "GeneratorFunc, java.util.Iterator, 0",
    "PublisherFunc, java.util.concurrent.Flow$Publisher, 0",
    "ActorFunc, java.lang.Object, 1",
    "ActorGeneratorFunc, java.util.Iterator, 1",
    "ActorPublisherFunc, java.util.concurrent.Flow$Publisher, 1",
    "ActorAsyncFunc, java.util.concurrent.CompletionStage, 1"
  })
  void eachFunctionInterfaceIsASerializableLambdaTargetOfItsArity(
      String func, Class<?> returns, int fixed) throws ClassNotFoundException {
    for (int n = 0; n <= MAX_ARITY; n++) {
      Class<?> type = Class.forName("dev.sluice." + func + n);
      assertTrue(type.isInterface() && Modifier.isPublic(type.getModifiers()), type::toString);
      assertTrue(Serializable.class.isAssignableFrom(type), type::toString);
      assertTrue(type.isAnnotationPresent(FunctionalInterface.class), type::toString);
      assertEquals(fixed + n + 1, type.getTypeParameters().length, type.toString());
      List<Method> methods =
          Arrays.stream(type.getDeclaredMethods()).filter(m -> !m.isSynthetic()).toList();
      assertEquals(1, methods.size(), type.toString());
      Method apply = methods.getFirst();
      assertEquals("apply", apply.getName());
      assertEquals(fixed + n, apply.getParameterCount(), apply.toString());
      assertEquals(returns, apply.getReturnType(), apply.toString());
      assertEquals(List.of(Exception.class), List.of(apply.getExceptionTypes()), apply.toString());
    }
  }

  /** The overloads reach users as {@code Sluice.task(...)} and so on. */
  @ParameterizedTest(name = "Sluice.{0}")
  @CsvSource({"task", "generator", "asyncGenerator", "actor"})
  void overloadsAreCallableThroughSluice(String method) {
    long count =
        Arrays.stream(Sluice.class.getMethods()).filter(m -> m.getName().equals(method)).count();
    assertEquals((1 << (MAX_ARITY + 1)) - 1, count, "Sluice." + method);
  }

  /** An actor's methods are called through its handle. */
  @ParameterizedTest(name = "ActorHandle.{0}")
  @CsvSource({"task", "asyncTask", "generator", "asyncGenerator"})
  void actorCallsAreCallableThroughTheHandle(String method) {
    long count =
        Arrays.stream(ActorHandle.class.getMethods())
            .filter(m -> m.getName().equals(method))
            .count();
    assertEquals((1 << (MAX_ARITY + 1)) - 1, count, "ActorHandle." + method);
  }
}
