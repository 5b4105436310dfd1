package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The option builders reject invalid values at once, with an {@link IllegalArgumentException} whose
 * message names the option (and, where there is one, the bad value).
 */
class OptionsValidationTest {

  // ------------------------------------------------------------------ TaskOptions

  @Test
  void taskOptionsDefaultsAreAsDocumented() {
    TaskOptions d = TaskOptions.defaults();
    assertThat(d.maxRetries()).isEqualTo(3);
    assertThat(d.retryExceptions()).isFalse();
    assertThat(d.numCpus()).isEqualTo(1.0);
    assertThat(d.resources()).isEmpty();
    assertThat(d.generatorBackpressureNumObjects()).isEqualTo(-1);
    assertThat(d.name()).isNull();
  }

  @ParameterizedTest
  @ValueSource(ints = {-1, -2, Integer.MIN_VALUE})
  void taskOptionsRejectNegativeMaxRetries(int value) {
    assertThatThrownBy(() -> TaskOptions.builder().maxRetries(value))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxRetries")
        .hasMessageContaining(Integer.toString(value));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 100})
  void taskOptionsAcceptNonNegativeMaxRetries(int value) {
    assertThat(TaskOptions.builder().maxRetries(value).build().maxRetries()).isEqualTo(value);
  }

  @ParameterizedTest
  @ValueSource(
      doubles = {
        -0.5,
        -1,
        Double.NaN,
        Double.POSITIVE_INFINITY,
        Double.NEGATIVE_INFINITY,
        -Double.MIN_VALUE
      })
  void taskOptionsRejectNegativeNanOrInfiniteNumCpus(double value) {
    assertThatThrownBy(() -> TaskOptions.builder().numCpus(value))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("numCpus");
  }

  @ParameterizedTest
  @ValueSource(doubles = {0, 0.25, 1, 64})
  void taskOptionsAcceptFiniteNonNegativeNumCpus(double value) {
    assertThat(TaskOptions.builder().numCpus(value).build().numCpus()).isEqualTo(value);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, -2, -100, Integer.MIN_VALUE})
  void taskOptionsRejectBackpressureOfZeroAndBelowMinusOne(int value) {
    assertThatThrownBy(() -> TaskOptions.builder().generatorBackpressureNumObjects(value))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("generatorBackpressureNumObjects")
        .hasMessageContaining(Integer.toString(value));
  }

  @ParameterizedTest
  @ValueSource(ints = {-1, 1, 2, 1000, Integer.MAX_VALUE})
  void taskOptionsAcceptBackpressureOfMinusOneOrAtLeastOne(int value) {
    assertThat(
            TaskOptions.builder()
                .generatorBackpressureNumObjects(value)
                .build()
                .generatorBackpressureNumObjects())
        .isEqualTo(value);
  }

  @Test
  void taskOptionsRejectBadResources() {
    for (Map<String, Double> bad : badResources()) {
      assertThatThrownBy(() -> TaskOptions.builder().resources(bad))
          .as("resources %s", bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("resource");
    }
    assertThatThrownBy(() -> TaskOptions.builder().resources(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("resources");
  }

  private static java.util.List<Map<String, Double>> badResources() {
    Map<String, Double> nullName = new HashMap<>();
    nullName.put(null, 1.0);
    Map<String, Double> nullAmount = new HashMap<>();
    nullAmount.put("GPU", null);
    return java.util.List.of(
        Map.of("GPU", 0.0),
        Map.of("GPU", -1.0),
        Map.of("GPU", Double.NaN),
        Map.of("GPU", Double.POSITIVE_INFINITY),
        Map.of("", 1.0),
        Map.of("  ", 1.0),
        nullName,
        nullAmount);
  }

  @Test
  void taskOptionsAcceptPositiveResourcesAndCopyThem() {
    Map<String, Double> in = new HashMap<>(Map.of("GPU", 0.5, "custom", 2.0));
    TaskOptions o = TaskOptions.builder().resources(in).build();
    in.put("other", 1.0);
    assertThat(o.resources()).containsExactlyInAnyOrderEntriesOf(Map.of("GPU", 0.5, "custom", 2.0));
  }

  @Test
  void aRejectedValueLeavesTheBuilderUsable() {
    TaskOptions.Builder b = TaskOptions.builder().maxRetries(1);
    assertThatThrownBy(() -> b.maxRetries(-1)).isInstanceOf(IllegalArgumentException.class);
    assertThat(b.build().maxRetries()).isEqualTo(1);
  }

  // ------------------------------------------------------------------ SluiceConfig

  @ParameterizedTest
  @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
  void configRejectsNumCpusBelowOne(int value) {
    assertThatThrownBy(() -> SluiceConfig.builder().numCpus(value))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("numCpus")
        .hasMessageContaining(Integer.toString(value));
  }

  @ParameterizedTest
  @ValueSource(strings = {"nohost", "h:0", "h:99999", "h:65536", "h:-1", "h:x", "h:", ":6379", ""})
  void configRejectsBadAddresses(String address) {
    assertThatThrownBy(() -> SluiceConfig.builder().address(address))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("address")
        .hasMessageContaining("'" + address + "'");
  }

  @Test
  void configRejectsANullAddress() {
    assertThatThrownBy(() -> SluiceConfig.builder().address(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("address");
  }

  @ParameterizedTest
  @ValueSource(strings = {"head:6379", "10.0.0.1:1", "localhost:65535", "::1:7000"})
  void configAcceptsHostPortAddresses(String address) {
    assertThat(SluiceConfig.builder().address(address).build().address()).contains(address);
  }

  @Test
  void configWithoutAddressMeansAnEmbeddedCluster() {
    assertThat(SluiceConfig.builder().build().address()).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(longs = {0, -1, (1L << 20) - 1})
  void configRejectsObjectStoreBelowOneMiB(long value) {
    assertThatThrownBy(() -> SluiceConfig.builder().objectStoreBytes(value))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("objectStoreBytes")
        .hasMessageContaining(Long.toString(value));
    assertThat(SluiceConfig.builder().objectStoreBytes(1L << 20).build().objectStoreBytes())
        .isEqualTo(1L << 20);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, -1, (1 << 20) - 1})
  void configRejectsMaxMessageBelowOneMiB(int value) {
    assertThatThrownBy(() -> SluiceConfig.builder().maxMessageBytes(value))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxMessageBytes")
        .hasMessageContaining(Integer.toString(value));
    assertThat(SluiceConfig.builder().maxMessageBytes(1 << 20).build().maxMessageBytes())
        .isEqualTo(1 << 20);
  }

  @Test
  void configRejectsMoreThanFourWorkersPerCpu() {
    assertThatThrownBy(() -> SluiceConfig.builder().numCpus(2).numWorkers(9).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("numWorkers")
        .hasMessageContaining("9")
        .hasMessageContaining("numCpus");
    // The check is made at build(), so the order of the calls does not matter.
    assertThatThrownBy(() -> SluiceConfig.builder().numWorkers(5).numCpus(1).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("numWorkers");
  }

  @Test
  void configAcceptsUpToFourWorkersPerCpuAndDefaultsToOnePerCpu() {
    assertThat(SluiceConfig.builder().numCpus(2).numWorkers(8).build().numWorkers()).isEqualTo(8);
    assertThat(SluiceConfig.builder().numCpus(2).numWorkers(0).build().numWorkers()).isZero();
    assertThat(SluiceConfig.builder().numCpus(3).build().numWorkers()).isEqualTo(3);
  }

  @Test
  void configRejectsNegativeNumWorkers() {
    assertThatThrownBy(() -> SluiceConfig.builder().numWorkers(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("numWorkers");
  }

  @Test
  void configRejectsOtherInvalidValuesNamingTheOption() {
    assertThatThrownBy(() -> SluiceConfig.builder().inlineThresholdBytes(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("inlineThresholdBytes");
    assertThatThrownBy(() -> SluiceConfig.builder().workerStartupTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("workerStartupTimeout");
    assertThatThrownBy(() -> SluiceConfig.builder().workerStartupTimeout(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("workerStartupTimeout");
    assertThatThrownBy(() -> SluiceConfig.builder().serializationAllowList("com.example.", " "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("allow-list");
    assertThatCode(() -> SluiceConfig.builder().inlineThresholdBytes(0).build())
        .doesNotThrowAnyException();
  }

  @Test
  void cancelGracePeriodDefaultsToAFewSecondsAndRejectsNegativeValues() {
    assertThat(SluiceConfig.builder().build().cancelGracePeriod())
        .isEqualTo(SluiceConfig.DEFAULT_CANCEL_GRACE_PERIOD)
        .isBetween(Duration.ofSeconds(1), Duration.ofSeconds(10));
    assertThat(SluiceConfig.builder().cancelGracePeriod(Duration.ZERO).build().cancelGracePeriod())
        .isZero();
    assertThatThrownBy(() -> SluiceConfig.builder().cancelGracePeriod(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cancelGracePeriod");
  }

  @Test
  void configRejectsAnInlineThresholdThatCouldNotTravelInline() {
    assertThatThrownBy(
            () ->
                SluiceConfig.builder()
                    .maxMessageBytes(1 << 20)
                    .inlineThresholdBytes(1 << 20)
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("inlineThresholdBytes")
        .hasMessageContaining("maxMessageBytes");
  }
}
