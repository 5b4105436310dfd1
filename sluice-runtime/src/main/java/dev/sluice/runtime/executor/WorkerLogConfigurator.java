package dev.sluice.runtime.executor;

import ch.qos.logback.classic.ClassicConstants;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.util.function.UnaryOperator;

/**
 * A worker JVM's logging, set up in code: logback finds this class as a {@link Configurator}
 * service (when logback is the application's SLF4J binding) and calls it before it would look for a
 * {@code logback.xml}. Parsing that XML with Joran cost a worker ~40 ms of CPU on its way to its
 * first task; this sets up the same thing directly.
 *
 * <p>It acts only in worker JVMs, which their node manager starts with {@code
 * -Dsluice.worker.logging=builtin}: every line goes to standard output, which is the worker's log
 * file, as {@code HH:mm:ss.SSS LEVEL [thread] logger - message} (exceptions follow), at {@code
 * INFO} ({@code -Dsluice.log.level} changes it), with gRPC, Netty and Fory at {@code WARN}. A
 * worker whose JVM options set {@code -Dlogback.configurationFile}, or {@code
 * -Dsluice.worker.logging} to anything else (e.g. {@code classpath}), is configured by logback as
 * usual from that file or the class path. Other processes are left to logback.
 *
 * <p>Threading: logback calls it once, on the thread that first asks for a logger.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class WorkerLogConfigurator extends ContextAwareBase implements Configurator {
  /** The system property a node manager sets on its workers' command line. */
  public static final String PROPERTY = "sluice.worker.logging";

  /** The value of {@link #PROPERTY} that selects this configuration. */
  public static final String BUILT_IN = "builtin";

  /** The root level's property (as in the CLI's {@code logback.xml}). */
  static final String LEVEL_PROPERTY = "sluice.log.level";

  /** The layout of every line: the same as the node daemons' (the CLI's logback.xml). */
  static final String PATTERN = "%d{HH:mm:ss.SSS} %-5level [%thread] %logger{20} - %msg%n";

  /** The name of its appender. */
  static final String APPENDER = "sluice-worker";

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
    ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
    console.setContext(context);
    console.setName(APPENDER);
    console.setEncoder(encoder);
    console.start();
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.toLevel(properties.apply(LEVEL_PROPERTY), Level.INFO));
    root.addAppender(console);
    context.getLogger("io.grpc").setLevel(Level.WARN);
    context.getLogger("io.netty").setLevel(Level.WARN);
    context.getLogger("org.apache.fory").setLevel(Level.WARN);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }
}
