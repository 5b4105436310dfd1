package dev.sluice.runtime.serial;

import static org.assertj.core.api.Assertions.assertThat;

import com.example.allowed.UserException;
import com.example.allowed.UserRecord;
import com.example.allowed.UserRecord.Color;
import com.example.outside.OutsideException;
import com.example.outside.OutsidePayload;
import dev.sluice.RemoteException;
import dev.sluice.TaskException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

class ThrowableCodecTest {
  private static final List<String> USER_PREFIXES = List.of("com.example.allowed.");

  private static Throwable roundTrip(Throwable t, List<String> prefixes) {
    byte[] bytes = ThrowableCodec.serializeThrowable(t);
    assertThat(bytes).as("serialized form of " + t).isNotNull();
    return ThrowableCodec.deserializeThrowable(bytes, prefixes);
  }

  private static Throwable thrown(Throwable t) {
    try {
      throw t;
    } catch (Throwable caught) {
      return caught;
    }
  }

  @Test
  void jdkExceptionWithCauseAndSuppressedRoundTrips() {
    IOException root = (IOException) thrown(new IOException("disk gone"));
    IllegalStateException top =
        (IllegalStateException) thrown(new IllegalStateException("wrapped", root));
    top.addSuppressed(new UncheckedIOException("while closing", new IOException("close")));
    top.addSuppressed(new ArithmeticException("/ by zero"));

    Throwable back = roundTrip(top, List.of());

    assertThat(back).isInstanceOf(IllegalStateException.class).hasMessage("wrapped");
    assertThat(back.getStackTrace()).isEqualTo(top.getStackTrace());
    assertThat(back.getCause()).isInstanceOf(IOException.class).hasMessage("disk gone");
    assertThat(back.getCause().getStackTrace()).isEqualTo(root.getStackTrace());
    assertThat(back.getSuppressed()).hasSize(2);
    assertThat(back.getSuppressed()[0])
        .isInstanceOf(UncheckedIOException.class)
        .hasMessage("while closing")
        .hasCauseInstanceOf(IOException.class);
    assertThat(back.getSuppressed()[1]).isInstanceOf(ArithmeticException.class);
  }

  @Test
  void exceptionWithoutSuppressedOrCauseRoundTrips() {
    Throwable back = roundTrip(new NullPointerException(), List.of());
    assertThat(back).isInstanceOf(NullPointerException.class);
    assertThat(back.getCause()).isNull();
    assertThat(back.getSuppressed()).isEmpty();
  }

  @Test
  void longCauseChainRoundTrips() {
    Throwable t = new RuntimeException("level 0");
    for (int i = 1; i < 100; i++) {
      t = new RuntimeException("level " + i, t);
    }
    int depth = 0;
    for (Throwable c = roundTrip(t, List.of()); c != null; c = c.getCause()) {
      depth++;
    }
    assertThat(depth).isEqualTo(100);
  }

  @Test
  void sluiceExceptionsRoundTrip() {
    TaskException t =
        new TaskException(
            "task f failed",
            new RemoteException("com.other.Boom", "boom", "com.other.Boom: boom\n\tat x"));
    Throwable back = roundTrip(t, List.of());
    assertThat(back).isInstanceOf(TaskException.class).hasMessage("task f failed");
    assertThat(((RemoteException) back.getCause()).remoteClassName()).isEqualTo("com.other.Boom");
  }

  @Test
  void userExceptionInAllowedPackageKeepsItsCustomFields() {
    UserRecord detail = new UserRecord("d", 1, Color.RED, new ArrayList<>(List.of(0.5)), Map.of());
    UserException e = new UserException("bad input", detail, new IllegalArgumentException("x"));

    Throwable back = roundTrip(e, USER_PREFIXES);

    assertThat(back).isInstanceOf(UserException.class).hasMessage("bad input");
    assertThat(((UserException) back).detail()).isEqualTo(detail);
    assertThat(back.getCause()).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void userExceptionWhoseFieldClassIsNotAllowedIsRefused() {
    UserRecord detail = new UserRecord("d", 1, Color.RED, List.of(), Map.of());
    UserException e = new UserException("bad input", detail, null);
    byte[] bytes = ThrowableCodec.serializeThrowable(e);
    assertThat(bytes).isNotNull();
    // com.example.allowed.UserException is a Throwable, but its UserRecord field is not allowed.
    assertThat(ThrowableCodec.deserializeThrowable(bytes, List.of())).isNull();
  }

  @Test
  void exceptionHoldingAValueOfClassOutsideAllowListIsRefused() {
    OutsideException e = new OutsideException("boom", new OutsidePayload("secret"));
    byte[] bytes = ThrowableCodec.serializeThrowable(e);
    assertThat(bytes).isNotNull();
    assertThat(ThrowableCodec.deserializeThrowable(bytes, USER_PREFIXES)).isNull();
    assertThat(ThrowableCodec.deserializeThrowable(bytes, List.of("com.example.outside.")))
        .isInstanceOf(OutsideException.class);
  }

  /** Rule: an exception class outside the allow-list is never loaded nor instantiated. */
  @Test
  void exceptionClassOutsideAllowListIsNeverLoadedAndGivesNull() throws Exception {
    byte[] bytes = ThrowableCodec.serializeThrowable(new OutsideException("plain", null));
    assertThat(bytes).isNotNull();
    RecordingLoader loader = new RecordingLoader(getClass().getClassLoader());

    assertThat(ThrowableCodec.deserializeThrowable(bytes, USER_PREFIXES, loader)).isNull();
    assertThat(loader.requested).doesNotContain(OutsideException.class.getName());

    RecordingLoader allowing = new RecordingLoader(getClass().getClassLoader());
    assertThat(
            ThrowableCodec.deserializeThrowable(bytes, List.of("com.example.outside."), allowing))
        .isInstanceOf(OutsideException.class)
        .hasMessage("plain");
    assertThat(allowing.requested).contains(OutsideException.class.getName());
  }

  /** Rule: a JDK exception whose cause is outside the allow-list is refused as a whole. */
  @Test
  void jdkExceptionWithACauseOutsideAllowListGivesNull() {
    byte[] bytes =
        ThrowableCodec.serializeThrowable(
            new IllegalStateException("wrapped", new OutsideException("inner", null)));
    assertThat(ThrowableCodec.deserializeThrowable(bytes, USER_PREFIXES)).isNull();
  }

  @Test
  void exceptionHoldingANonSerializableFieldIsNotSerialized() {
    assertThat(ThrowableCodec.serializeThrowable(new HoldsThread("x"))).isNull();
    assertThat(
            ThrowableCodec.serializeThrowable(
                new IllegalStateException("cause cannot travel", new HoldsThread("y"))))
        .isNull();
  }

  @Test
  void exceptionClassMissingOnTheReaderGivesNull() throws Exception {
    byte[] bytes =
        ThrowableCodec.serializeThrowable(
            new UserException("m", new UserRecord("d", 1, Color.RED, List.of(), Map.of()), null));
    try (URLClassLoader isolated =
        new URLClassLoader(new URL[0], ClassLoader.getPlatformClassLoader())) {
      assertThat(ThrowableCodec.deserializeThrowable(bytes, USER_PREFIXES, isolated)).isNull();
    }
  }

  @Test
  void corruptOrTruncatedBytesGiveNull() {
    byte[] bytes = ThrowableCodec.serializeThrowable(new IllegalStateException("x"));
    assertThat(
            ThrowableCodec.deserializeThrowable(Arrays.copyOf(bytes, bytes.length / 2), List.of()))
        .isNull();
    assertThat(ThrowableCodec.deserializeThrowable(new byte[] {1, 2, 3}, List.of())).isNull();
    assertThat(ThrowableCodec.deserializeThrowable(new byte[0], List.of())).isNull();
  }

  @Test
  void serializedNonThrowableGivesNull() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ObjectOutputStream oos = new ObjectOutputStream(out)) {
      oos.writeObject(new ArrayList<>(List.of("not", "an", "exception")));
    }
    assertThat(ThrowableCodec.deserializeThrowable(out.toByteArray(), List.of())).isNull();
  }

  /** Records every class name asked of it. */
  private static final class RecordingLoader extends ClassLoader {
    final Set<String> requested = ConcurrentHashMap.newKeySet();

    RecordingLoader(ClassLoader parent) {
      super(parent);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      requested.add(name);
      return super.loadClass(name, resolve);
    }
  }

  /** An exception that cannot be JDK-serialized: it holds a Thread. */
  static final class HoldsThread extends RuntimeException {
    private static final long serialVersionUID = 1L;

    @SuppressWarnings({"serial", "unused"})
    private final Thread thread = Thread.currentThread();

    HoldsThread(String message) {
      super(message);
    }
  }
}
