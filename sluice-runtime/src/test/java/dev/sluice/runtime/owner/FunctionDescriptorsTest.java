package dev.sluice.runtime.owner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.example.outside.OutsideRecord;
import dev.sluice.Func0;
import dev.sluice.Func1;
import dev.sluice.SerializationException;
import dev.sluice.runtime.serial.ObjectSerializer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Function objects become descriptors; those that cannot travel say why. */
class FunctionDescriptorsTest {
  private final FunctionDescriptors descriptors =
      new FunctionDescriptors(new ObjectSerializer(List.of(), null));

  /** Rule: a bound method reference's error names the function and the receiver's class. */
  @Test
  void boundMethodReferenceWithUnserializableReceiverNamesFunctionAndClass() {
    OutsideRecord receiver = new OutsideRecord(7);
    Func0<Integer> f = receiver::value;

    assertThatThrownBy(() -> descriptors.describe(f))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("function OutsideRecord.value")
        .hasMessageContaining("receiver of the bound method reference")
        .hasMessageContaining("class " + OutsideRecord.class.getName())
        .hasMessageContaining("serializationAllowList")
        .hasMessageNotContaining("[Ljava.lang.Object;")
        .hasMessageNotContaining("Object[]");
  }

  /** Rule: a capturing lambda's error names the function and the captured value's class. */
  @Test
  void capturingLambdaWithUnserializableValueNamesFunctionAndClass() {
    Thread captured = Thread.currentThread();
    String prefix = "p";
    Func1<Integer, String> f = k -> prefix + k + captured.getName();

    assertThatThrownBy(() -> descriptors.describe(f))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("function FunctionDescriptorsTest.lambda$")
        .hasMessageContaining("class " + captured.getClass().getName())
        .hasMessageContaining("as an argument")
        .hasMessageNotContaining("[Ljava.lang.Object;")
        .hasMessageNotContaining("Object[]");
  }

  @Test
  void capturingLambdaWithSerializableValuesIsDescribed() {
    String prefix = "p";
    Func1<Integer, String> f = k -> prefix + k;

    FunctionDescriptors.Described d = descriptors.describe(f);

    assertThat(d.displayName()).startsWith("FunctionDescriptorsTest.lambda$");
    assertThat(d.descriptor().getCapturedArgs().isEmpty()).isFalse();
  }
}
