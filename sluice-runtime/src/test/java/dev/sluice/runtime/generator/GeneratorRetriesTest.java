package dev.sluice.runtime.generator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.runtime.rpc.proto.TaskSpec;
import org.junit.jupiter.api.Test;

/**
 * The owner's retry budget, stated once in the spec: an application error of an attempt is retried
 * only with retryExceptions and a retry left, whatever the attempt number says.
 */
class GeneratorRetriesTest {
  private static TaskSpec spec(boolean retryExceptions, int attempt, int retriesLeft) {
    return GeneratorRetries.withBudget(
            TaskSpec.newBuilder()
                .setMaxRetries(3)
                .setRetryExceptions(retryExceptions)
                .setAttemptNumber(attempt),
            retriesLeft)
        .build();
  }

  @Test
  void retriedOnlyWithRetryExceptionsAndARetryLeft() {
    assertThat(GeneratorRetries.willRetryApplicationError(spec(true, 0, 3))).isTrue();
    assertThat(GeneratorRetries.willRetryApplicationError(spec(true, 2, 1))).isTrue();
    assertThat(GeneratorRetries.willRetryApplicationError(spec(true, 3, 0))).isFalse();
    assertThat(GeneratorRetries.willRetryApplicationError(spec(false, 0, 3))).isFalse();
  }

  @Test
  void theOwnersBudgetDecidesNotTheAttemptNumber() {
    // A rebuild run: attempt 1 of a task with 3 retries, but the owner has none left for it.
    assertThat(GeneratorRetries.willRetryApplicationError(spec(true, 1, 0))).isFalse();
  }
}
