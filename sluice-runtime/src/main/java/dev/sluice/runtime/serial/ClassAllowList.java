package dev.sluice.runtime.serial;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Decides by class name which classes may cross a process boundary. Allowed are:
 *
 * <ul>
 *   <li>Sluice's own classes ({@code dev.sluice.});
 *   <li>the user's configured prefixes: an entry ending in {@code .} or {@code $} is a prefix, any
 *       other entry names a class or package (it also matches {@code entry.*} and {@code entry$*});
 *       Fory-style {@code com.example.*} is read as {@code com.example.};
 *   <li>an explicit set of JDK value types: boxed primitives, {@code String}, string builders,
 *       {@code StackTraceElement}, {@code Optional*}, {@code UUID}, {@code Date}, {@code Locale},
 *       {@code Currency}, {@code BitSet}, {@code TimeUnit}, atomics, {@code URI}, {@code
 *       InetAddress}/{@code InetSocketAddress}, {@code Pattern}, and the serial proxies of {@code
 *       List.of}-style collections and {@code EnumSet};
 *   <li>everything in {@code java.time.} and {@code java.math.};
 *   <li>the {@code Collection}, {@code Map}, {@code Map.Entry} and {@code Comparator}
 *       implementations of {@code java.util} and {@code java.util.concurrent} (not their
 *       sub-packages such as {@code java.util.logging} or {@code java.util.jar});
 *   <li>JDK exceptions ({@code Throwable} subclasses under {@code java.}, except {@code java.rmi.}
 *       and {@code java.beans.});
 *   <li>arrays of primitives and of allowed classes.
 * </ul>
 *
 * <p>Only names are checked, except that a {@code java.} class outside the explicit set is looked
 * up, without initialization, through the platform class loader to test its supertypes. User
 * classes are never loaded here. Thread-safe.
 */
final class ClassAllowList {
  static final String SLUICE_PREFIX = "dev.sluice.";

  private static final Set<String> PRIMITIVES =
      Set.of("boolean", "byte", "char", "short", "int", "long", "float", "double", "void");

  private static final Set<String> JDK_CLASSES =
      Set.of(
          "java.lang.Object",
          "java.lang.Boolean",
          "java.lang.Byte",
          "java.lang.Character",
          "java.lang.Short",
          "java.lang.Integer",
          "java.lang.Long",
          "java.lang.Float",
          "java.lang.Double",
          "java.lang.Void",
          "java.lang.Number",
          "java.lang.Enum",
          "java.lang.Record",
          "java.lang.String",
          "java.lang.String$CaseInsensitiveComparator",
          "java.lang.StringBuilder",
          "java.lang.StringBuffer",
          "java.lang.StackTraceElement",
          "java.util.Optional",
          "java.util.OptionalInt",
          "java.util.OptionalLong",
          "java.util.OptionalDouble",
          "java.util.UUID",
          "java.util.Date",
          "java.util.Locale",
          "java.util.Currency",
          "java.util.BitSet",
          "java.util.CollSer",
          "java.util.EnumSet$SerializationProxy",
          "java.util.regex.Pattern",
          "java.util.concurrent.TimeUnit",
          "java.util.concurrent.atomic.AtomicBoolean",
          "java.util.concurrent.atomic.AtomicInteger",
          "java.util.concurrent.atomic.AtomicLong",
          "java.util.concurrent.atomic.AtomicReference",
          "java.util.concurrent.atomic.AtomicIntegerArray",
          "java.util.concurrent.atomic.AtomicLongArray",
          "java.util.concurrent.atomic.AtomicReferenceArray",
          "java.net.URI",
          "java.net.InetAddress",
          "java.net.Inet4Address",
          "java.net.Inet6Address",
          "java.net.InetSocketAddress");

  private static final List<String> JDK_PACKAGE_PREFIXES = List.of("java.time.", "java.math.");

  private static final Set<String> JDK_CONTAINER_PACKAGES =
      Set.of("java.util", "java.util.concurrent");

  private static final List<String> JDK_EXCEPTION_EXCLUDED = List.of("java.rmi.", "java.beans.");

  private final List<String> configured;
  private final List<String> userPrefixes = new ArrayList<>();
  private final List<String> userNames = new ArrayList<>();

  /** Decisions for {@code java.} classes that exist; unknown names are not cached. */
  private final Map<String, Boolean> jdkDecisions = new ConcurrentHashMap<>();

  /**
   * @throws IllegalArgumentException if an entry is null or blank
   */
  ClassAllowList(List<String> allowedPackagePrefixes) {
    this.configured = List.copyOf(allowedPackagePrefixes);
    for (String raw : configured) {
      if (raw.isBlank()) {
        throw new IllegalArgumentException("serialization allow-list entries must be non-blank");
      }
      String p = raw.strip();
      if (p.endsWith("*")) {
        p = p.substring(0, p.length() - 1);
      }
      if (p.endsWith(".") || p.endsWith("$")) {
        userPrefixes.add(p);
      } else {
        userNames.add(p);
      }
    }
  }

  /** The user's entries, as configured. */
  List<String> configured() {
    return configured;
  }

  /** True if instances of {@code className} (a {@link Class#getName()}) may be (de)serialized. */
  boolean isAllowed(String className) {
    String name = baseName(className);
    if (name == null || PRIMITIVES.contains(name)) {
      return true;
    }
    if (name.startsWith(SLUICE_PREFIX) || matchesUser(name) || JDK_CLASSES.contains(name)) {
      return true;
    }
    if (!name.startsWith("java.")) {
      return false;
    }
    for (String p : JDK_PACKAGE_PREFIXES) {
      if (name.startsWith(p)) {
        return true;
      }
    }
    Boolean cached = jdkDecisions.get(name);
    if (cached != null) {
      return cached;
    }
    Boolean decided = decideJdkClass(name);
    if (decided == null) {
      return false;
    }
    jdkDecisions.put(name, decided);
    return decided;
  }

  /** Why {@code className} is refused, and for a non-JDK class how to allow it. */
  static String refusal(String className) {
    String name = baseName(className);
    if (name == null) {
      name = className;
    }
    if (isJdkName(name)) {
      return "class "
          + name
          + " cannot be serialized: of the JDK's classes only value, "
          + "collection, time and math types and exceptions are allowed";
    }
    int dot = name.lastIndexOf('.');
    String suggestion = dot < 0 ? name : name.substring(0, dot + 1);
    return "class "
        + name
        + " is not on the serialization allow-list; allow it with "
        + "SluiceConfig.builder().serializationAllowList(\""
        + suggestion
        + "\")";
  }

  private boolean matchesUser(String name) {
    for (String p : userPrefixes) {
      if (name.startsWith(p)) {
        return true;
      }
    }
    for (String n : userNames) {
      if (name.startsWith(n)
          && (name.length() == n.length()
              || name.charAt(n.length()) == '.'
              || name.charAt(n.length()) == '$')) {
        return true;
      }
    }
    return false;
  }

  /** Looks the class up without initializing it; null if it does not exist. */
  private static Boolean decideJdkClass(String name) {
    Class<?> c;
    try {
      c = Class.forName(name, false, ClassLoader.getPlatformClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      return null;
    }
    if (Throwable.class.isAssignableFrom(c)) {
      for (String excluded : JDK_EXCEPTION_EXCLUDED) {
        if (name.startsWith(excluded)) {
          return false;
        }
      }
      return true;
    }
    if (JDK_CONTAINER_PACKAGES.contains(c.getPackageName())) {
      return Collection.class.isAssignableFrom(c)
          || Map.class.isAssignableFrom(c)
          || Map.Entry.class.isAssignableFrom(c)
          || Comparator.class.isAssignableFrom(c);
    }
    return false;
  }

  static boolean isJdkName(String name) {
    return name.startsWith("java.")
        || name.startsWith("javax.")
        || name.startsWith("jdk.")
        || name.startsWith("sun.")
        || name.startsWith("com.sun.");
  }

  /**
   * The class a name stands for: the element class of an array ({@code [Lcom.x.Y;} or {@code
   * com.x.Y[]}), the defining class of a lambda ({@code com.x.Y$$Lambda/0x...}), else the name
   * itself; null for an array of primitives.
   */
  static String baseName(String className) {
    String n = className;
    if (n.startsWith("[")) {
      int dims = 0;
      while (dims < n.length() && n.charAt(dims) == '[') {
        dims++;
      }
      n = n.substring(dims);
      if (n.length() == 1) {
        return null;
      }
      if (n.startsWith("L") && n.endsWith(";")) {
        n = n.substring(1, n.length() - 1);
      }
    }
    while (n.endsWith("[]")) {
      n = n.substring(0, n.length() - 2);
    }
    int slash = n.indexOf('/');
    if (slash >= 0) {
      n = n.substring(0, slash);
    }
    int lambda = n.indexOf("$$Lambda");
    if (lambda > 0) {
      n = n.substring(0, lambda);
    }
    return n;
  }

  /** Thrown from inside Fory's class checks; carries the refused class name out. */
  static final class ClassNotAllowedException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String className;

    ClassNotAllowedException(String className) {
      super(refusal(className), null, false, false);
      this.className = className;
    }

    String className() {
      return className;
    }
  }
}
