package dev.sluice.runtime.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.rpc.proto.TaskResult;
import dev.sluice.runtime.rpc.proto.TaskResultBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The frame format of same-node task streams (DESIGN "FramedConnection"): length, kind, payload;
 * frames come out whole whatever the reads split them into, and frames over the message limit are
 * refused.
 */
class FrameCodecTest {
  private record Frame(byte kind, byte[] payload) {}

  private static TaskResultBatch batch(int i, int padding) {
    return TaskResultBatch.newBuilder()
        .addResults(
            TaskResult.newBuilder()
                .setTaskId(ByteString.copyFromUtf8("task-" + i + "-" + "x".repeat(padding))))
        .build();
  }

  /** Feeds {@code bytes} to {@code decoder} in pieces of {@code piece} bytes. */
  private static List<Frame> decode(FrameCodec.Decoder decoder, byte[] bytes, int piece)
      throws IOException {
    List<Frame> frames = new ArrayList<>();
    for (int at = 0; at < bytes.length; ) {
      ByteBuffer into = decoder.buffer();
      int n = Math.min(Math.min(piece, into.remaining()), bytes.length - at);
      into.put(bytes, at, n);
      at += n;
      decoder.drain(
          (kind, b, off, len) ->
              frames.add(new Frame(kind, Arrays.copyOfRange(b, off, off + len))));
    }
    return frames;
  }

  private static byte[] concat(ByteBuffer... frames) {
    ByteBuffer all =
        ByteBuffer.allocate(Arrays.stream(frames).mapToInt(ByteBuffer::remaining).sum());
    for (ByteBuffer f : frames) {
      all.put(f);
    }
    return all.array();
  }

  @Test
  void messagesComeOutWholeAndInOrderHoweverTheReadsSplitThem() throws Exception {
    // one frame larger than the decoder's initial buffer, so it must grow and shrink back
    TaskResultBatch small = batch(1, 10);
    TaskResultBatch large = batch(2, 200_000);
    byte[] wire =
        concat(
            FrameCodec.text(FrameCodec.HELLO, "token"),
            FrameCodec.message(small),
            FrameCodec.message(large),
            FrameCodec.empty(FrameCodec.END));

    for (int piece : new int[] {1, 7, 4096, wire.length}) {
      List<Frame> frames = decode(new FrameCodec.Decoder(1 << 20), wire, piece);

      assertThat(frames)
          .extracting(Frame::kind)
          .as("piece " + piece)
          .containsExactly(
              FrameCodec.HELLO, FrameCodec.MESSAGE, FrameCodec.MESSAGE, FrameCodec.END);
      assertThat(new String(frames.get(0).payload())).isEqualTo("token");
      assertThat(TaskResultBatch.parseFrom(frames.get(1).payload())).isEqualTo(small);
      assertThat(TaskResultBatch.parseFrom(frames.get(2).payload())).isEqualTo(large);
      assertThat(frames.get(3).payload()).isEmpty();
    }
  }

  @Test
  void aFrameOverTheMessageLimitIsRefused() {
    byte[] wire = concat(FrameCodec.message(batch(1, 5_000)));

    assertThatThrownBy(() -> decode(new FrameCodec.Decoder(1_000), wire, wire.length))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("over the limit of 1000");
  }
}
