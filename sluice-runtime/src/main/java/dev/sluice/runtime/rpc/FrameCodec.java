package dev.sluice.runtime.rpc;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.MessageLite;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The frame format of {@link FramedConnection}: a 4-byte big-endian payload length, a 1-byte kind,
 * then the payload. A {@link #MESSAGE} frame carries one protobuf message (the same messages the
 * gRPC stream carries); {@link #HELLO} carries the cluster token (the client's first frame); {@link
 * #REFUSED} carries the server's reason for refusing a connection (UTF-8); {@link #END} is the
 * sender's orderly end of its direction, so that a connection closed without it reads as broken.
 *
 * <p>Decoding keeps its own buffer ({@link Decoder}): one decoder per connection, used by one
 * thread. Stateless otherwise.
 */
public final class FrameCodec {
  /** Bytes before a frame's payload: length and kind. */
  public static final int HEADER_BYTES = 5;

  /** A protobuf message. */
  public static final byte MESSAGE = 0;

  /** The client's first frame: the cluster token, UTF-8. */
  public static final byte HELLO = 1;

  /** The server refuses the connection: the reason, UTF-8. The server closes after it. */
  public static final byte REFUSED = 2;

  /** The sender will send nothing more (orderly end of its direction). */
  public static final byte END = 3;

  private static final int INITIAL_BUFFER = 64 << 10;

  private FrameCodec() {}

  /** The frame of message {@code m}, ready to write. */
  public static ByteBuffer message(MessageLite m) {
    int size = m.getSerializedSize();
    byte[] bytes = new byte[HEADER_BYTES + size];
    ByteBuffer.wrap(bytes).putInt(size).put(MESSAGE);
    try {
      CodedOutputStream out = CodedOutputStream.newInstance(bytes, HEADER_BYTES, size);
      m.writeTo(out);
      out.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a byte array does not fail
    }
    return ByteBuffer.wrap(bytes);
  }

  /** A frame of {@code kind} with {@code text} (UTF-8) as its payload. */
  public static ByteBuffer text(byte kind, String text) {
    byte[] payload = text.getBytes(StandardCharsets.UTF_8);
    ByteBuffer frame = ByteBuffer.allocate(HEADER_BYTES + payload.length);
    frame.putInt(payload.length).put(kind).put(payload);
    frame.flip();
    return frame;
  }

  /** An empty frame of {@code kind}. */
  public static ByteBuffer empty(byte kind) {
    ByteBuffer frame = ByteBuffer.allocate(HEADER_BYTES);
    frame.putInt(0).put(kind);
    frame.flip();
    return frame;
  }

  /** What a decoder hands each whole frame to; the payload is valid during the call only. */
  @FunctionalInterface
  public interface FrameHandler {
    /** One frame: its kind and its payload {@code bytes[offset, offset + length)}. */
    void frame(byte kind, byte[] bytes, int offset, int length) throws IOException;
  }

  /**
   * Splits the bytes read from a connection into frames. Bytes go into {@link #buffer()} (read into
   * it), then {@link #drain} hands every whole frame on and keeps the rest for the next read.
   * Frames larger than the buffer grow it; it shrinks back once empty. One thread only.
   */
  public static final class Decoder {
    private final int maxPayloadBytes;
    private ByteBuffer buffer = ByteBuffer.allocate(INITIAL_BUFFER);

    /** A decoder refusing payloads over {@code maxPayloadBytes}. */
    public Decoder(int maxPayloadBytes) {
      this.maxPayloadBytes = maxPayloadBytes;
    }

    /** The buffer to read into (in write mode, with room). */
    public ByteBuffer buffer() {
      return buffer;
    }

    /**
     * Hands every whole frame in the buffer to {@code handler}, then keeps the partial rest.
     *
     * @throws IOException if a frame is longer than the limit, or the handler throws it
     */
    public void drain(FrameHandler handler) throws IOException {
      buffer.flip();
      while (buffer.remaining() >= HEADER_BYTES) {
        int start = buffer.position();
        int length = buffer.getInt(start);
        if (length < 0 || length > maxPayloadBytes) {
          throw new IOException(
              "frame of " + length + " bytes is over the limit of " + maxPayloadBytes);
        }
        if (buffer.remaining() < HEADER_BYTES + length) {
          if (buffer.capacity() < HEADER_BYTES + length) {
            grow(HEADER_BYTES + length);
            return;
          }
          break;
        }
        handler.frame(
            buffer.get(start + 4),
            buffer.array(),
            buffer.arrayOffset() + start + HEADER_BYTES,
            length);
        buffer.position(start + HEADER_BYTES + length);
      }
      if (!buffer.hasRemaining() && buffer.capacity() > INITIAL_BUFFER) {
        buffer = ByteBuffer.allocate(INITIAL_BUFFER);
        return;
      }
      buffer.compact();
    }

    /** Replaces the buffer (in read mode) by one of at least {@code bytes}, in write mode. */
    private void grow(int bytes) {
      ByteBuffer bigger =
          ByteBuffer.allocate(
              Math.max(
                  bytes,
                  (int) Math.min(buffer.capacity() * 2L, HEADER_BYTES + (long) maxPayloadBytes)));
      bigger.put(buffer);
      buffer = bigger;
    }
  }
}
