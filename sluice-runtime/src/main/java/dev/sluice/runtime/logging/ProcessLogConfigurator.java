package dev.sluice.runtime.logging;

import ch.qos.logback.classic.ClassicConstants;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.rolling.FixedWindowRollingPolicy;
import ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy;
import ch.qos.logback.core.spi.ContextAwareBase;
import ch.qos.logback.core.util.Duration;
import ch.qos.logback.core.util.FileSize;
import java.util.function.UnaryOperator;

/**
 * The logging of Sluice's own processes (worker JVMs and node daemons), set up in code: logback
 * finds this class as a {@link Configurator} service and calls it before it would look for a {@code
 * logback.xml}. Parsing that XML with Joran cost a worker ~40 ms of CPU on its way to its first
 * task; this sets up the same thing directly.
 *
 * <p>It acts only in processes started with {@code -Dsluice.worker.logging=builtin} (see {@link
 * dev.sluice.runtime.logging.ProcessLogging}, which also puts logback on their class path): every
 * line goes to the file {@code -Dsluice.worker.log} names ({@code {pid}} in it becomes the process
 * id; standard output without it), rotated by size ({@code -Dsluice.log.maxFileBytes}, default 64
 * MiB, keeping {@code -Dsluice.log.maxFiles} older files, default 5, as {@code <file>.1} (newest)
 * to {@code <file>.5}), as {@code yyyy-MM-dd HH:mm:ss.SSS LEVEL [thread] logger - message}
 * (exceptions follow), at {@code INFO} ({@code -Dsluice.log.level} changes it), with gRPC, Netty
 * and Fory at {@code WARN}. A process whose JVM options set {@code -Dlogback.configurationFile}, or
 * {@code -Dsluice.worker.logging} to anything else (e.g. {@code classpath}), is configured by
 * logback as usual from that file or the class path. Other processes are left to logback.
 *
 * <p>Threading: logback calls it once, on the thread that first asks for a logger.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class ProcessLogConfigurator extends ContextAwareBase implements Configurator {
  /** The system property a node manager sets on its workers' command line. */
  public static final String PROPERTY = "sluice.worker.logging";

  /** The value of {@link #PROPERTY} that selects this configuration. */
  public static final String BUILT_IN = "builtin";

  /** The system property naming the process's log file ({@code {pid}}: its process id). */
  public static final String FILE_PROPERTY = "sluice.worker.log";

  /** What {@link #FILE_PROPERTY} may hold in place of the process id. */
  public static final String PID_PLACEHOLDER = "{pid}";

  /** The root level's property (as in the CLI's {@code logback.xml}). */
  static final String LEVEL_PROPERTY = "sluice.log.level";

  /** The size at which the log file rolls over, in bytes. */
  static final String MAX_FILE_BYTES_PROPERTY = "sluice.log.maxFileBytes";

  /** How many rolled-over files are kept. */
  static final String MAX_FILES_PROPERTY = "sluice.log.maxFiles";

  static final long DEFAULT_MAX_FILE_BYTES = 64L << 20;
  static final int DEFAULT_MAX_FILES = 5;

  /** The layout of every line: the same as the CLI's logback.xml. */
  static final String PATTERN =
      "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%thread] %logger{20} - %msg%n";

  /** The name of its appender. */
  static final String APPENDER = "sluice-worker";

  /** How often the file's size is checked against the limit (a stat call), in milliseconds. */
  private final long sizeCheckMillis;

  /** The configurator logback instantiates: checks the file's size at most once a second. */
  public ProcessLogConfigurator() {
    this(1000);
  }

  ProcessLogConfigurator(long sizeCheckMillis) {
    this.sizeCheckMillis = sizeCheckMillis;
  }

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    return configure(context, System::getProperty);
  }

  /** Configures {@code context} if the system properties {@code properties} call for it. */
  ExecutionStatus configure(LoggerContext context, UnaryOperator<String> properties) {
    if (!BUILT_IN.equals(properties.apply(PROPERTY))
        || properties.apply(ClassicConstants.CONFIG_FILE_PROPERTY) != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(PATTERN);
    encoder.start();
    String file = properties.apply(FILE_PROPERTY);
    OutputStreamAppender<ILoggingEvent> appender =
        file == null || file.isBlank()
            ? new ConsoleAppender<>()
            : rollingFile(context, resolve(file), properties);
    appender.setContext(context);
    appender.setName(APPENDER);
    appender.setEncoder(encoder);
    appender.start();
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.toLevel(properties.apply(LEVEL_PROPERTY), Level.INFO));
    root.addAppender(appender);
    context.getLogger("io.grpc").setLevel(Level.WARN);
    context.getLogger("io.netty").setLevel(Level.WARN);
    context.getLogger("org.apache.fory").setLevel(Level.WARN);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  /** The file {@code template} names for this process. */
  public static String resolve(String template) {
    return template.replace(PID_PLACEHOLDER, Long.toString(ProcessHandle.current().pid()));
  }

  private OwnerOnlyRollingFileAppender rollingFile(
      LoggerContext context, String file, UnaryOperator<String> properties) {
    OwnerOnlyRollingFileAppender appender = new OwnerOnlyRollingFileAppender();
    appender.setContext(context);
    appender.setFile(file);
    FixedWindowRollingPolicy rolling = new FixedWindowRollingPolicy();
    rolling.setContext(context);
    rolling.setParent(appender);
    rolling.setFileNamePattern(file + ".%i");
    rolling.setMinIndex(1);
    rolling.setMaxIndex(Math.max(1, positive(properties, MAX_FILES_PROPERTY, DEFAULT_MAX_FILES)));
    rolling.start();
    SizeBasedTriggeringPolicy<ILoggingEvent> trigger = new SizeBasedTriggeringPolicy<>();
    trigger.setContext(context);
    trigger.setMaxFileSize(
        new FileSize(positive(properties, MAX_FILE_BYTES_PROPERTY, DEFAULT_MAX_FILE_BYTES)));
    trigger.setCheckIncrement(Duration.buildByMilliseconds(sizeCheckMillis));
    trigger.start();
    appender.setRollingPolicy(rolling);
    appender.setTriggeringPolicy(trigger);
    return appender;
  }

  private static long positive(UnaryOperator<String> properties, String key, long otherwise) {
    String v = properties.apply(key);
    try {
      return v == null ? otherwise : Math.max(1, Long.parseLong(v.trim()));
    } catch (NumberFormatException e) {
      return otherwise;
    }
  }

  private static int positive(UnaryOperator<String> properties, String key, int otherwise) {
    return (int) Math.min(Integer.MAX_VALUE, positive(properties, key, (long) otherwise));
  }
}
