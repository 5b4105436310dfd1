package dev.sluice.runtime.common;

import static org.assertj.core.api.Assertions.assertThat;

import com.example.outside.OutsideException;
import dev.sluice.ActorDiedException;
import dev.sluice.ObjectStoreFullException;
import dev.sluice.ObjectTooLargeException;
import dev.sluice.RemoteException;
import dev.sluice.SluiceException;
import dev.sluice.TaskException;
import dev.sluice.runtime.rpc.proto.ErrorType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How failures travel and which public exceptions callers see. */
class ErrorsTest {

  /** Rule: code that catches "store full" (as Ray code does) also catches "too large". */
  @Test
  void objectTooLargeIsCaughtAsObjectStoreFull() {
    SluiceException e =
        Errors.toException(Errors.error(ErrorType.OBJECT_TOO_LARGE, "value of 3 GiB"), List.of());
    String caught;
    try {
      throw e;
    } catch (ObjectStoreFullException full) {
      caught = full.getClass().getSimpleName();
    } catch (SluiceException other) {
      caught = "not as store full";
    }
    assertThat(caught).isEqualTo(ObjectTooLargeException.class.getSimpleName());
    assertThat(new ObjectTooLargeException("x", new IllegalStateException("y")))
        .isInstanceOf(ObjectStoreFullException.class)
        .hasCauseInstanceOf(IllegalStateException.class);
  }

  /** Rule: an exception class outside the allow-list arrives as a RemoteException. */
  @Test
  void exceptionOutsideAllowListArrivesAsRemoteException() {
    SluiceException e =
        Errors.toException(
            Errors.applicationError("task f failed on node n", new OutsideException("boom", null)),
            List.of("com.example.allowed."));

    assertThat(e).isInstanceOf(TaskException.class).hasMessage("task f failed on node n");
    assertThat(e.getCause())
        .isInstanceOfSatisfying(
            RemoteException.class,
            r -> {
              assertThat(r.remoteClassName()).isEqualTo(OutsideException.class.getName());
              assertThat(r).hasMessage(OutsideException.class.getName() + ": boom");
              assertThat(r.remoteStackTrace()).contains("ErrorsTest");
            });
  }

  /** Rule: an actor's death reaches every caller as ActorDiedException with its reason. */
  @Test
  void actorDeathKeepsItsReasonAcrossTheWire() {
    for (ActorDiedException.Reason reason : ActorDiedException.Reason.values()) {
      SluiceException e =
          Errors.toException(Errors.actorDied(reason, "actor Counter died", null), List.of());
      assertThat(e).isInstanceOf(ActorDiedException.class).hasMessage("actor Counter died");
      assertThat(((ActorDiedException) e).reason()).isEqualTo(reason);
      assertThat(e.getCause()).isNull();
    }
  }

  /** Rule: a constructor's exception is the cause of the actor's death. */
  @Test
  void constructorExceptionIsTheCauseOfActorDeath() {
    SluiceException e =
        Errors.toException(
            Errors.actorDied(
                ActorDiedException.Reason.CONSTRUCTOR_FAILED,
                "the constructor of actor Counter threw",
                new IllegalStateException("model file missing")),
            List.of());
    assertThat(((ActorDiedException) e).reason())
        .isEqualTo(ActorDiedException.Reason.CONSTRUCTOR_FAILED);
    assertThat(e.getCause())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("model file missing");
  }
}
