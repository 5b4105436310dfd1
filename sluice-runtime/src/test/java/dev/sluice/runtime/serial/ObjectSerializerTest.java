package dev.sluice.runtime.serial;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.example.allowed.CustomSerialized;
import com.example.allowed.Mutable;
import com.example.allowed.UserRecord;
import com.example.allowed.UserRecord.Color;
import com.example.outside.OutsideRecord;
import dev.sluice.JobId;
import dev.sluice.ObjectId;
import dev.sluice.ObjectRef;
import dev.sluice.SerializationException;
import dev.sluice.TaskId;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

class ObjectSerializerTest {
  private static final List<String> USER_PREFIXES = List.of("com.example.allowed.");

  private final ObjectSerializer serializer = new ObjectSerializer(USER_PREFIXES, null);

  private Object roundTrip(Object value) {
    return serializer.deserialize(serializer.serialize(value));
  }

  private static ObjectId objectId(int task, int index) {
    return ObjectId.of(TaskId.forChild(TaskId.forDriver(JobId.of(1)), task), index);
  }

  private static UserRecord sampleRecord() {
    UserRecord leaf = new UserRecord("leaf", 1, Color.BLUE, List.of(), Map.of());
    return new UserRecord(
        "root",
        42,
        Color.GREEN,
        List.of(1.5, -2.0),
        Map.of("kids", List.of(leaf, leaf), "none", List.of()));
  }

  @Test
  void primitivesAndStringsRoundTrip() {
    for (Object v :
        List.of(
            42,
            -7L,
            3.25d,
            1.5f,
            (short) 3,
            (byte) -1,
            'x',
            true,
            "",
            "héllo wörld ✓",
            Integer.MIN_VALUE,
            Long.MAX_VALUE,
            Double.NaN)) {
      assertThat(roundTrip(v)).isEqualTo(v);
    }
  }

  @Test
  void nullRoundTrips() {
    byte[] bytes = serializer.serialize(null);
    assertThat(bytes).isNotEmpty();
    assertThat(serializer.deserialize(bytes)).isNull();
  }

  @Test
  void recordsEnumsAndNestedGenericCollectionsInAllowedUserPackageRoundTrip() {
    UserRecord r = sampleRecord();
    assertThat(roundTrip(r)).isEqualTo(r);
    assertThat(roundTrip(Color.RED)).isSameAs(Color.RED);
    Map<String, List<Map<Integer, Set<UserRecord>>>> nested = new TreeMap<>();
    nested.put("a", List.of(Map.of(1, Set.of(r)), new HashMap<>()));
    nested.put("b", new ArrayList<>());
    assertThat(roundTrip(nested)).isEqualTo(nested);
    UserRecord[] array = {r, null, r};
    assertThat((Object[]) roundTrip(array)).containsExactly(r, null, r);
  }

  @Test
  void jdkValueAndCollectionTypesRoundTrip() {
    List<Object> values =
        List.of(
            UUID.randomUUID(),
            Instant.now(),
            Duration.ofMillis(1234),
            LocalDate.of(2024, 2, 29),
            ZonedDateTime.now(),
            new BigDecimal("12345.6789"),
            new BigInteger("123456789012345678901"),
            URI.create("https://example.com/a?b=c"),
            Optional.of("x"),
            Optional.empty(),
            new LinkedHashMap<>(Map.of("k", 1)),
            new ConcurrentHashMap<>(Map.of(1, "v")),
            Arrays.asList(1, 2, 3),
            TimeUnit.SECONDS,
            new StringBuilder("sb").toString());
    for (Object v : values) {
      assertThat(roundTrip(v)).as(v.getClass().getName()).isEqualTo(v);
    }
    assertThat((int[]) roundTrip(new int[] {1, 2, 3})).containsExactly(1, 2, 3);
    assertThat((String[]) roundTrip(new String[] {"a", null})).containsExactly("a", null);
    long[][] matrix = {{1, 2}, {3}};
    assertThat((long[][]) roundTrip(matrix)).isDeepEqualTo(matrix);
  }

  @Test
  void classesWithCustomJdkSerializationHooksRoundTrip() throws Exception {
    CustomSerialized back = (CustomSerialized) roundTrip(new CustomSerialized("hooked"));
    assertThat(back.value()).isEqualTo("hooked");
    assertThat(back.readCount()).isEqualTo(1);
    Properties props = new Properties();
    props.setProperty("k", "v");
    assertThat(roundTrip(props)).isEqualTo(props);
    InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), 8080);
    assertThat(roundTrip(address)).isEqualTo(address);
  }

  @Test
  void sluiceIdTypesAreAllowedWithoutConfiguration() {
    ObjectSerializer plain = new ObjectSerializer(List.of(), null);
    ObjectId id = objectId(3, 2);
    assertThat(plain.deserialize(plain.serialize(id))).isEqualTo(id);
    assertThat(plain.deserialize(plain.serialize(List.of(id.taskId(), JobId.of(9)))))
        .isEqualTo(List.of(id.taskId(), JobId.of(9)));
  }

  @Test
  void largeByteArrayRoundTripsWithoutOverhead() {
    byte[] big = new byte[10 << 20];
    new Random(1).nextBytes(big);
    byte[] bytes = serializer.serialize(big);
    assertThat(bytes.length).isLessThan(big.length + 64);
    assertThat((byte[]) serializer.deserialize(bytes)).isEqualTo(big);
  }

  @Test
  void sharedReferencesAndCyclesArePreserved() {
    Mutable a = new Mutable("a");
    Mutable b = new Mutable("b");
    a.next = b;
    b.next = a;
    a.payload = List.of(b, b);
    Mutable back = (Mutable) roundTrip(a);
    assertThat(back.label).isEqualTo("a");
    assertThat(back.next.label).isEqualTo("b");
    assertThat(back.next.next).isSameAs(back);
    List<?> payload = (List<?>) back.payload;
    assertThat(payload.get(0)).isSameAs(back.next).isSameAs(payload.get(1));
  }

  @Test
  void classOutsideAllowListIsRefusedWithItsNameAndHowToAllowIt() {
    assertThatThrownBy(() -> serializer.serialize(new OutsideRecord(1)))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("com.example.outside.OutsideRecord")
        .hasMessageContaining(
            "SluiceConfig.builder().serializationAllowList(\"com.example.outside.\")");
  }

  @Test
  void classOutsideAllowListNestedInsideAllowedValuesIsRefused() {
    Mutable m = new Mutable("holder");
    m.payload = Map.of("k", List.of(new OutsideRecord(2)));
    assertThatThrownBy(() -> serializer.serialize(m))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("com.example.outside.OutsideRecord");
  }

  @Test
  void readerRefusesClassOutsideItsAllowListEvenIfTheWriterAllowedIt() {
    ObjectSerializer permissive = new ObjectSerializer(List.of("com.example.outside."), null);
    byte[] bytes = permissive.serialize(List.of(new OutsideRecord(3)));
    assertThat(permissive.deserialize(bytes)).isEqualTo(List.of(new OutsideRecord(3)));

    assertThatThrownBy(() -> serializer.deserialize(bytes))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("com.example.outside.OutsideRecord")
        .hasMessageContaining("serializationAllowList(\"com.example.outside.\")");
  }

  @Test
  void readerNeverLoadsARefusedClass() {
    ObjectSerializer permissive = new ObjectSerializer(List.of("com.example."), null);
    byte[] outside = permissive.serialize(List.of(new OutsideRecord(3)));
    byte[] allowed = permissive.serialize(List.of(sampleRecord()));
    RecordingLoader loader = new RecordingLoader(getClass().getClassLoader());
    Thread current = Thread.currentThread();
    ClassLoader saved = current.getContextClassLoader();
    current.setContextClassLoader(loader);
    try {
      ObjectSerializer reader = new ObjectSerializer(USER_PREFIXES, null, loader);
      assertThatThrownBy(() -> reader.deserialize(outside))
          .isInstanceOf(SerializationException.class)
          .hasMessageContaining("com.example.outside.OutsideRecord");
      assertThat(reader.deserialize(allowed)).isEqualTo(List.of(sampleRecord()));
    } finally {
      current.setContextClassLoader(saved);
    }
    assertThat(loader.requested).contains(UserRecord.class.getName());
    assertThat(loader.requested).doesNotContain(OutsideRecord.class.getName());
  }

  @Test
  void allowListEntryWithoutTrailingDotMatchesThatPackageOrClassOnly() {
    ObjectSerializer pkg = new ObjectSerializer(List.of("com.example.outside"), null);
    assertThat(pkg.deserialize(pkg.serialize(new OutsideRecord(4))))
        .isEqualTo(new OutsideRecord(4));
    ObjectSerializer cls = new ObjectSerializer(List.of("com.example.outside.OutsideRecord"), null);
    assertThat(cls.deserialize(cls.serialize(new OutsideRecord(5))))
        .isEqualTo(new OutsideRecord(5));
    ObjectSerializer partial = new ObjectSerializer(List.of("com.example.out"), null);
    assertThatThrownBy(() -> partial.serialize(new OutsideRecord(6)))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("com.example.outside.OutsideRecord");
  }

  @Test
  void blankAllowListEntryIsRejected() {
    assertThatThrownBy(() -> new ObjectSerializer(List.of(" "), null))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void threadIsNotSerializable() {
    assertThatThrownBy(() -> serializer.serialize(new Thread(() -> {})))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("java.lang.Thread");
  }

  @Test
  void socketIsNotSerializable() throws Exception {
    try (Socket socket = new Socket()) {
      assertThatThrownBy(() -> serializer.serialize(List.of(socket)))
          .isInstanceOf(SerializationException.class)
          .hasMessageContaining("java.net.Socket");
    }
  }

  @Test
  void objectHoldingAnInputStreamIsNotSerializable() {
    Mutable m = new Mutable("stream holder");
    m.payload = new ByteArrayInputStream(new byte[] {1, 2, 3});
    assertThatThrownBy(() -> serializer.serialize(m))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("com.example.allowed.Mutable")
        .hasMessageContaining("java.io.ByteArrayInputStream");
  }

  @Test
  void jdkClassesOutsideTheValueSetAreRefused() throws Exception {
    for (Object v :
        List.of(
            new ReentrantLock(),
            Level.INFO,
            new File("/tmp"),
            URI.create("http://example.com").toURL(),
            new Object[] {getClass().getClassLoader()},
            Executors.class)) {
      assertThatThrownBy(() -> roundTrip(v))
          .as(v.getClass().getName())
          .isInstanceOf(SerializationException.class);
    }
    assertThatThrownBy(() -> serializer.serialize(Level.INFO))
        .hasMessageContaining("java.util.logging.Level");
  }

  @Test
  void refusalDoesNotPoisonLaterCalls() {
    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> serializer.serialize(List.of(1, new OutsideRecord(1))))
          .isInstanceOf(SerializationException.class);
      assertThat(roundTrip(List.of(1, 2))).isEqualTo(List.of(1, 2));
    }
  }

  @Test
  void refsInsideValuesTravelThroughTheRefCodec() {
    TestRef.Codec codec = new TestRef.Codec();
    ObjectSerializer withRefs = new ObjectSerializer(USER_PREFIXES, codec);
    TestRef ref = new TestRef(objectId(1, 1), "owner-a");
    TestRef other = new TestRef(objectId(2, 1), "owner-b");
    Mutable m = new Mutable("holder");
    m.payload = Map.of("refs", List.of(ref, other, ref));

    Mutable back = (Mutable) withRefs.deserialize(withRefs.serialize(m));

    @SuppressWarnings("unchecked")
    List<Object> refs = (List<Object>) ((Map<?, ?>) back.payload).get("refs");
    assertThat(refs).containsExactly(ref, other, ref);
    assertThat(refs).allSatisfy(r -> assertThat(((TestRef) r).decoded).isTrue());
    assertThat(((ObjectRef<?>) refs.get(0)).id()).isEqualTo(objectId(1, 1));
    assertThat(refs.get(2)).isSameAs(refs.get(0));
    assertThat(codec.encodes.get()).isEqualTo(2);
    assertThat(codec.decodes.get()).isEqualTo(2);
    assertThat(withRefs.deserialize(withRefs.serialize(ref))).isEqualTo(ref);
  }

  @Test
  void corruptRefEncodingFailsWithSerializationException() {
    RefCodec broken =
        new TestRef.Codec() {
          @Override
          public byte[] encode(ObjectRef<?> ref) {
            return new byte[] {1, 2};
          }
        };
    ObjectSerializer withRefs = new ObjectSerializer(USER_PREFIXES, broken);
    byte[] bytes = withRefs.serialize(List.of(new TestRef(objectId(1, 1), "o")));
    assertThatThrownBy(() -> withRefs.deserialize(bytes))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("corrupt ref");
  }

  @Test
  void refCodecMustNameAConcreteObjectRefClass() {
    RefCodec notARef =
        new TestRef.Codec() {
          @Override
          public Class<?> refClass() {
            return String.class;
          }
        };
    RefCodec anInterface =
        new TestRef.Codec() {
          @Override
          public Class<?> refClass() {
            return ObjectRef.class;
          }
        };
    assertThatThrownBy(() -> new ObjectSerializer(USER_PREFIXES, notARef))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ObjectSerializer(USER_PREFIXES, anInterface))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void truncatedEmptyOrGarbageBytesFailWithSerializationException() {
    byte[] good = serializer.serialize(sampleRecord());
    for (int cut : new int[] {1, good.length / 2, good.length - 1}) {
      byte[] truncated = Arrays.copyOf(good, cut);
      assertThatThrownBy(() -> serializer.deserialize(truncated))
          .as("cut at " + cut)
          .isInstanceOf(SerializationException.class);
    }
    assertThatThrownBy(() -> serializer.deserialize(new byte[0]))
        .isInstanceOf(SerializationException.class);
    Random random = new Random(7);
    for (int i = 0; i < 200; i++) {
      byte[] garbage = new byte[1 + random.nextInt(64)];
      random.nextBytes(garbage);
      try {
        serializer.deserialize(garbage);
      } catch (SerializationException expected) {
        // fine: garbage either decodes to some value or fails with this type only
      }
    }
  }

  @Test
  void deserializeReadsTheGivenRangeOnly() {
    byte[] value = serializer.serialize(sampleRecord());
    byte[] framed = new byte[value.length + 10];
    Arrays.fill(framed, (byte) 0x7f);
    System.arraycopy(value, 0, framed, 3, value.length);
    assertThat(serializer.deserialize(framed, 3, value.length)).isEqualTo(sampleRecord());
  }

  @Test
  void moderatelyDeepGraphsWorkAndOverlyDeepOnesFailCleanly() {
    assertThat(chainLength((Mutable) roundTrip(chain(500)))).isEqualTo(500);
    assertThatThrownBy(() -> roundTrip(chain(ObjectSerializer.MAX_DEPTH + 10)))
        .isInstanceOf(SerializationException.class);
    assertThatThrownBy(() -> roundTrip(chain(200_000))).isInstanceOf(SerializationException.class);
    assertThat(roundTrip(List.of(1))).isEqualTo(List.of(1));
  }

  @Test
  void classMissingOnTheReaderIsNamed() throws Exception {
    byte[] bytes = serializer.serialize(sampleRecord());
    Thread current = Thread.currentThread();
    ClassLoader saved = current.getContextClassLoader();
    try (URLClassLoader isolated =
        new URLClassLoader(new URL[0], ClassLoader.getPlatformClassLoader())) {
      current.setContextClassLoader(isolated);
      ObjectSerializer reader = new ObjectSerializer(USER_PREFIXES, null, isolated);
      assertThatThrownBy(() -> reader.deserialize(bytes))
          .isInstanceOf(SerializationException.class)
          .hasMessageContaining("com.example.allowed.UserRecord");
    } finally {
      current.setContextClassLoader(saved);
    }
  }

  @Test
  void manyVirtualThreadsCanShareOneSerializer() throws Exception {
    UserRecord r = sampleRecord();
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<Integer>> futures = new ArrayList<>();
      for (int t = 0; t < 200; t++) {
        int seed = t;
        futures.add(
            pool.submit(
                () -> {
                  int ok = 0;
                  for (int i = 0; i < 200; i++) {
                    List<Object> v = List.of(seed, i, r);
                    if (roundTrip(v).equals(v)) {
                      ok++;
                    }
                  }
                  return ok;
                }));
      }
      for (Future<Integer> f : futures) {
        assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo(200);
      }
    }
  }

  /** Records every class name it is asked for, then delegates to its parent. */
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

  private static Mutable chain(int n) {
    Mutable head = null;
    for (int i = 0; i < n; i++) {
      Mutable m = new Mutable("n" + i);
      m.next = head;
      head = m;
    }
    return head;
  }

  private static int chainLength(Mutable m) {
    int n = 0;
    for (Mutable c = m; c != null; c = c.next) {
      n++;
    }
    return n;
  }
}
