package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Rule: refs are bound to their session. An {@code ObjectRef} from an earlier {@code init} never
 * resolves to an object of a later one: using it ({@code get}, {@code getBuffer}, {@code wait}, as
 * a task argument or inside a value) throws a {@link SluiceException} saying its session has ended;
 * and ids (job ids, so task and object ids) differ from one session to the next.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class SessionRefsTest {
  private static final Duration WAIT = Duration.ofSeconds(60);

  @AfterEach
  void stop() {
    if (Sluice.isInitialized()) {
      SluiceTestSupport.stopAndAssertNoWorkers();
    }
  }

  static Integer two() {
    return 2;
  }

  static Integer hundredAndOne() {
    return 101;
  }

  static Integer inc(Integer x) {
    return x + 1;
  }

  @Test
  void aRefOfAnEndedSessionFailsInsteadOfResolvingToTheNewSessionsObject() {
    SluiceTestSupport.start(SluiceTestSupport.twoCpus());
    JobId oldJob = Sluice.runtimeContext().jobId();
    ObjectRef<Integer> oldTask = Sluice.task(SessionRefsTest::two).remote();
    ObjectRef<String> oldPut = Sluice.put("old-session-put");
    ObjectRef<byte[]> oldBytes = Sluice.put(new byte[256 * 1024]);
    assertThat(oldTask.get(WAIT)).isEqualTo(2);
    assertThat(oldPut.get(WAIT)).isEqualTo("old-session-put");
    Sluice.shutdown();

    SluiceTestSupport.start(SluiceTestSupport.twoCpus());
    ObjectRef<Integer> newTask = Sluice.task(SessionRefsTest::hundredAndOne).remote();
    ObjectRef<String> newPut = Sluice.put("new-session-put");
    ObjectRef<byte[]> newBytes = Sluice.put(new byte[256 * 1024]);
    assertThat(newTask.get(WAIT)).isEqualTo(101);

    assertThat(Sluice.runtimeContext().jobId()).isNotEqualTo(oldJob);
    assertThat(newTask.id()).isNotEqualTo(oldTask.id());
    assertThat(newPut.id()).isNotEqualTo(oldPut.id());
    assertThat(newBytes.id()).isNotEqualTo(oldBytes.id());

    assertEnded(() -> oldTask.get(WAIT));
    assertEnded(() -> Sluice.get(oldPut));
    assertEnded(() -> Sluice.get(List.of(newPut, oldPut)));
    assertEnded(() -> Sluice.getBuffer(oldBytes));
    assertEnded(() -> Sluice.wait(List.of(oldTask), 1, WAIT));
    assertEnded(() -> Sluice.task(SessionRefsTest::inc, oldTask).remote());
    assertEnded(() -> Sluice.put(List.of(oldPut)));

    // Releasing an old ref is harmless, and the new session's objects are untouched.
    oldPut.release();
    oldTask.release();
    assertThat(newPut.get(WAIT)).isEqualTo("new-session-put");
    assertThat(Sluice.task(SessionRefsTest::inc, newTask).remote().get(WAIT)).isEqualTo(102);
  }

  @Test
  void everySessionHasItsOwnJobAndTaskIds() {
    SluiceTestSupport.start(SluiceTestSupport.twoCpus());
    JobId first = Sluice.runtimeContext().jobId();
    ObjectId firstTask = Sluice.task(SessionRefsTest::two).remote().id();
    Sluice.shutdown();
    SluiceTestSupport.start(SluiceTestSupport.twoCpus());
    assertThat(Sluice.runtimeContext().jobId()).isNotEqualTo(first);
    assertThat(Sluice.task(SessionRefsTest::two).remote().id()).isNotEqualTo(firstTask);
  }

  private static void assertEnded(ThrowingCallable use) {
    assertThatThrownBy(use)
        .isInstanceOf(SluiceException.class)
        .hasMessageContaining("session that has ended");
  }
}
