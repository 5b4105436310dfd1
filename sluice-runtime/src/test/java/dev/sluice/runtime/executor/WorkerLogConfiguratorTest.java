package dev.sluice.runtime.executor;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import dev.sluice.runtime.worker.WorkerMain;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A worker's logging is set up in code (no logback XML to parse on its way to its first task):
 * standard output, which is its log file, in the node daemons' layout, INFO with the transports at
 * WARN; other processes, and workers given a configuration file, are left to logback.
 */
class WorkerLogConfiguratorTest {
  private static final Map<String, String> WORKER =
      Map.of(WorkerLogConfigurator.PROPERTY, WorkerLogConfigurator.BUILT_IN);

  @SuppressWarnings("unchecked")
  private static ConsoleAppender<ILoggingEvent> appender(LoggerContext context) {
    return (ConsoleAppender<ILoggingEvent>)
        context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender(WorkerLogConfigurator.APPENDER);
  }

  private static String line(
      ConsoleAppender<ILoggingEvent> appender, Logger logger, Throwable thrown) {
    LoggingEvent event =
        new LoggingEvent(
            Logger.class.getName(),
            logger,
            Level.INFO,
            "worker {} serving",
            thrown,
            new Object[] {"w1"});
    event.setThreadName("main");
    return new String(appender.getEncoder().encode(event), UTF_8);
  }

  @Test
  void aWorkerLogsToStandardOutputInTheNodesLayoutAtInfoWithTheTransportsAtWarn() {
    LoggerContext context = new LoggerContext();
    try {
      ExecutionStatus status = new WorkerLogConfigurator().configure(context, WORKER::get);

      assertThat(status)
          .as("logback looks for no XML file after it")
          .isEqualTo(ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
      ConsoleAppender<ILoggingEvent> out = appender(context);
      assertThat(out).isNotNull();
      assertThat(out.isStarted()).isTrue();
      assertThat(out.getTarget()).isEqualTo("System.out");
      Logger main = context.getLogger(WorkerMain.class);
      assertThat(line(out, main, null))
          .matches(
              "\\d{2}:\\d{2}:\\d{2}\\.\\d{3} INFO  \\[main\\] d\\.s\\.r\\.w\\.WorkerMain"
                  + " - worker w1 serving\\R");
      assertThat(line(out, main, new IllegalStateException("boom")))
          .contains("java.lang.IllegalStateException: boom")
          .contains("\tat ");
      assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel()).isEqualTo(Level.INFO);
      assertThat(context.getLogger("io.grpc.netty.Foo").getEffectiveLevel()).isEqualTo(Level.WARN);
      assertThat(context.getLogger("io.netty.Foo").getEffectiveLevel()).isEqualTo(Level.WARN);
      assertThat(context.getLogger("org.apache.fory.Fory").getEffectiveLevel())
          .isEqualTo(Level.WARN);
    } finally {
      context.stop();
    }
  }

  @Test
  void theLogLevelPropertySetsTheRootLevel() {
    LoggerContext context = new LoggerContext();
    try {
      new WorkerLogConfigurator()
          .configure(
              context,
              Map.of(
                      WorkerLogConfigurator.PROPERTY,
                      WorkerLogConfigurator.BUILT_IN,
                      WorkerLogConfigurator.LEVEL_PROPERTY,
                      "DEBUG")
                  ::get);
      assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel()).isEqualTo(Level.DEBUG);
    } finally {
      context.stop();
    }
  }

  @Test
  void otherProcessesAndWorkersWithAConfigurationOfTheirOwnAreLeftToLogback() {
    for (Map<String, String> props :
        List.of(
            Map.<String, String>of(),
            Map.of(WorkerLogConfigurator.PROPERTY, "classpath"),
            Map.of(
                WorkerLogConfigurator.PROPERTY,
                WorkerLogConfigurator.BUILT_IN,
                "logback.configurationFile",
                "/etc/mine.xml"))) {
      LoggerContext context = new LoggerContext();
      try {
        assertThat(new WorkerLogConfigurator().configure(context, props::get))
            .as("%s", props)
            .isEqualTo(ExecutionStatus.INVOKE_NEXT_IF_ANY);
        assertThat(appender(context)).as("%s", props).isNull();
      } finally {
        context.stop();
      }
    }
  }
}
