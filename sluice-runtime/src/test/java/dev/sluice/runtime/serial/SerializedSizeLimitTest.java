package dev.sluice.runtime.serial;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.ObjectTooLargeException;
import java.io.Externalizable;
import java.io.IOException;
import java.io.ObjectInput;
import java.io.ObjectOutput;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A value whose serialized form exceeds 2 GiB. The value itself is small (one 64 MiB chunk it
 * writes 33 times), but the serializer's buffer reaches its 2 GiB maximum, so this test needs about
 * 3 GiB of heap for a moment.
 */
class SerializedSizeLimitTest {
  private static final int CHUNK = 64 << 20;
  private static final int REPEATS = 33;

  /** Rule: a value over 2 GiB fails with ObjectTooLargeException saying so, no index error. */
  @Test
  void aValueWhoseSerializedFormExceeds2GiBSaysSo() {
    ObjectSerializer serializer = new ObjectSerializer(List.of(), null);

    assertThatThrownBy(() -> serializer.serialize(new Repeated()))
        .isInstanceOf(ObjectTooLargeException.class)
        .hasMessageContaining(Repeated.class.getName())
        .hasMessageContaining("exceeds 2 GiB")
        .hasMessageContaining("split it")
        .hasMessageNotContaining("arraycopy");
    assertThat(serializer.deserialize(serializer.serialize("still usable")))
        .isEqualTo("still usable");
  }

  /** Writes the same chunk {@link #REPEATS} times: 2.06 GiB on the wire from 64 MiB in memory. */
  public static final class Repeated implements Externalizable {
    private final transient byte[] chunk = new byte[CHUNK];

    public Repeated() {}

    @Override
    public void writeExternal(ObjectOutput out) throws IOException {
      for (int i = 0; i < REPEATS; i++) {
        out.write(chunk);
      }
    }

    @Override
    public void readExternal(ObjectInput in) {
      throw new UnsupportedOperationException("never read back");
    }
  }
}
