package dev.sluice.runtime.objectmanager;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.runtime.objectmanager.ObjectTransferException.Kind;
import io.grpc.Status;
import java.util.Map;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/**
 * The gRPC edge of object transfer: each {@link ObjectTransferException} kind travels as the status
 * code the fetching process reads (NOT_FOUND becomes a lost object there), with its message as the
 * description, however the failure is wrapped.
 */
class ChunkSendStreamTest {

  @Test
  void eachFailureKindKeepsItsStatusCodeAndMessage() {
    Map<Kind, Status.Code> expected =
        Map.of(
            Kind.INVALID_ARGUMENT, Status.Code.INVALID_ARGUMENT,
            Kind.NOT_FOUND, Status.Code.NOT_FOUND,
            Kind.UNAVAILABLE, Status.Code.UNAVAILABLE,
            Kind.DATA_LOSS, Status.Code.DATA_LOSS,
            Kind.TOO_LARGE, Status.Code.OUT_OF_RANGE,
            Kind.STORE_FULL, Status.Code.RESOURCE_EXHAUSTED,
            Kind.INTERNAL, Status.Code.INTERNAL);
    assertThat(expected).hasSize(Kind.values().length);
    expected.forEach(
        (kind, code) -> {
          Status s =
              ChunkSendStream.statusOf(
                  new CompletionException(new ObjectTransferException(kind, "object x: " + kind)));
          assertThat(s.getCode()).isEqualTo(code);
          assertThat(s.getDescription()).isEqualTo("object x: " + kind);
        });
  }

  @Test
  void anyOtherFailureIsUnknown() {
    assertThat(ChunkSendStream.statusOf(new IllegalStateException("boom")).getCode())
        .isEqualTo(Status.Code.UNKNOWN);
  }
}
