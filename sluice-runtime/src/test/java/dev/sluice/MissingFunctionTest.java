package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.runtime.node.ClassPathResolver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A cluster whose workers load code from the driver's class path minus the test classes: test
 * functions are missing there, JDK and library code is not.
 */
@Timeout(120)
class MissingFunctionTest {
  private static final Duration LIMIT = Duration.ofSeconds(60);

  @BeforeAll
  static void startCluster() {
    List<Path> withoutTests =
        ClassPathResolver.effectiveClassPath().stream()
            .filter(p -> !p.toString().endsWith("test-classes"))
            .toList();
    assertThat(withoutTests).hasSizeLessThan(ClassPathResolver.effectiveClassPath().size());
    SluiceTestSupport.start(SluiceConfig.builder().numCpus(1).codeSearchPath(withoutTests).build());
  }

  @AfterAll
  static void stopCluster() {
    SluiceTestSupport.stopAndAssertNoWorkers();
  }

  static int answer() {
    return 42;
  }

  @Test
  void functionWhoseClassIsMissingOnTheWorkerFailsWithFunctionNotFound() {
    ObjectRef<Integer> ref = Sluice.task(MissingFunctionTest::answer).remote();

    assertThatThrownBy(() -> ref.get(LIMIT))
        .isInstanceOf(FunctionNotFoundException.class)
        .hasMessageContaining(MissingFunctionTest.class.getName());
  }

  @Test
  void functionsOnTheCodeSearchPathStillRun() {
    Func1<Integer, Integer> abs = Math::abs;
    assertThat(Sluice.task(abs, -42).remote().get(LIMIT)).isEqualTo(42);
  }
}
