package dev.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The line protocol between the bench and its peer JVMs: what a child prints, the bench reads. */
class PeerProtocolTest {
  @Test
  void aResultLineCarriesTheRoundsValueExactly() {
    double value = 18.123456789012345;
    PeerProtocol.Reply reply = PeerProtocol.parse(PeerProtocol.result(value)).orElseThrow();
    assertThat(reply.type()).isEqualTo("result");
    assertThat(reply.value()).isEqualTo(value);
  }

  @Test
  void aTimedPartCarriesItsCpuSecondsAndAPartWithoutThemReadsBackAsNotMeasured() {
    RoundPart part = new RoundPart(80_000, 4, 2.5, 4.75);
    RoundPart back = PeerProtocol.parse(PeerProtocol.result(part)).orElseThrow().part();
    assertThat(back).isEqualTo(part);
    RoundPart noCpu = new RoundPart(80_000, 4, 2.5);
    String line = PeerProtocol.result(noCpu);
    assertThat(line).doesNotContain("cpu");
    assertThat(PeerProtocol.parse(line).orElseThrow().part().cpuSeconds()).isNaN();
  }

  @Test
  void linesWithoutTheMarkerAreNotProtocolEvenIfTheyLookLikeJson() {
    assertThat(PeerProtocol.parse("{\"type\":\"result\",\"value\":1.0}")).isEmpty();
    assertThat(PeerProtocol.parse("06:50:01.123 INFO  d.s.runtime - started")).isEmpty();
  }

  @Test
  void anErrorMessageSurvivesQuotesBackslashesAndNewlines() {
    String message = "IllegalStateException: item \"3\" at C:\\x\nnext line\ttab";
    PeerProtocol.Reply reply = PeerProtocol.parse(PeerProtocol.error(message)).orElseThrow();
    assertThat(reply.type()).isEqualTo("error");
    assertThat(reply.fields()).containsEntry("message", message);
  }

  @Test
  void aReadyLineNamesEveryMeasurementWithItsUnitAndWork() {
    Measurement rtt = fake("rsocket request-response", Measurement.Unit.MICROS_PER_OP, "5000 rt");
    Measurement gb = fake("memcpy 64 MiB", Measurement.Unit.GB_PER_SECOND, "16 copies");
    PeerProtocol.Reply reply =
        PeerProtocol.parse(PeerProtocol.ready(List.of(rtt, gb))).orElseThrow();
    assertThat(reply.type()).isEqualTo("ready");
    assertThat(reply.fields())
        .containsEntry("count", "2")
        .containsEntry("name0", "rsocket request-response")
        .containsEntry("unit0", "MICROS_PER_OP")
        .containsEntry("work0", "5000 rt")
        .containsEntry("name1", "memcpy 64 MiB")
        .containsEntry("unit1", "GB_PER_SECOND");
  }

  @Test
  void aServersReadyLineCarriesItsPort() {
    assertThat(PeerProtocol.parse(PeerProtocol.ready(40123)).orElseThrow().port()).isEqualTo(40123);
  }

  @Test
  void aMalformedProtocolLineIsAnErrorNotSilence() {
    assertThatThrownBy(() -> PeerProtocol.parse(PeerProtocol.PREFIX + "{\"type\":\"result\","))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("malformed peer line");
    assertThatThrownBy(() -> PeerProtocol.parse(PeerProtocol.PREFIX + "{\"value\":1}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("without a type");
  }

  @Test
  void aResultWithoutAValueIsRefusedByNameOfTheMissingField() {
    PeerProtocol.Reply reply =
        PeerProtocol.parse(PeerProtocol.line(Map.of("type", "result"))).orElseThrow();
    assertThatThrownBy(reply::value).hasMessageContaining("'value'");
  }

  @Test
  void aNonFiniteValueIsNotWrittenAsJson() {
    assertThatThrownBy(() -> PeerProtocol.result(Double.NaN))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aSpecOnTheCommandLineReadsBackAsWritten() {
    PeerProtocol.Spec spec =
        PeerProtocol.Spec.of("sluice-stream", "bp", -1, "items", 150000, "perItem", true);
    PeerProtocol.Spec back = PeerProtocol.Spec.parse(spec.render());
    assertThat(back).isEqualTo(spec);
    assertThat(back.intParam("bp")).isEqualTo(-1);
    assertThat(back.boolParam("perItem")).isTrue();
    assertThat(PeerProtocol.Spec.parse("memcpy").params()).isEmpty();
    assertThatThrownBy(() -> back.intParam("ops")).hasMessageContaining("'ops'");
    assertThatThrownBy(() -> PeerProtocol.Spec.parse("rsocket-rr:port"))
        .hasMessageContaining("port");
  }

  private static Measurement fake(String name, Measurement.Unit unit, String work) {
    return new Measurement() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public Unit unit() {
        return unit;
      }

      @Override
      public void warmUp() {}

      @Override
      public double runRound() {
        return 1;
      }

      @Override
      public String workPerRound() {
        return work;
      }
    };
  }
}
