package dev.sluice.runtime.logging;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.OutputStreamAppender;
import dev.sluice.runtime.worker.WorkerMain;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker's logging is set up in code (no logback XML to parse on its way to its first task):
 * standard output, which is its log file, in the node daemons' layout, INFO with the transports at
 * WARN; other processes, and workers given a configuration file, are left to logback.
 */
class ProcessLogConfiguratorTest {
  private static final Map<String, String> WORKER =
      Map.of(ProcessLogConfigurator.PROPERTY, ProcessLogConfigurator.BUILT_IN);

  @SuppressWarnings("unchecked")
  private static OutputStreamAppender<ILoggingEvent> appender(LoggerContext context) {
    return (OutputStreamAppender<ILoggingEvent>)
        context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender(ProcessLogConfigurator.APPENDER);
  }

  private static String line(
      OutputStreamAppender<ILoggingEvent> appender, Logger logger, Throwable thrown) {
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
  void withoutAFileAProcessLogsToStandardOutputInTheNodesLayoutAtInfoWithTheTransportsAtWarn() {
    LoggerContext context = new LoggerContext();
    try {
      ExecutionStatus status = new ProcessLogConfigurator().configure(context, WORKER::get);

      assertThat(status)
          .as("logback looks for no XML file after it")
          .isEqualTo(ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
      OutputStreamAppender<ILoggingEvent> out = appender(context);
      assertThat(out).isInstanceOf(ConsoleAppender.class);
      assertThat(out.isStarted()).isTrue();
      assertThat(((ConsoleAppender<ILoggingEvent>) out).getTarget()).isEqualTo("System.out");
      Logger main = context.getLogger(WorkerMain.class);
      assertThat(line(out, main, null))
          .matches(
              "\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3} INFO  \\[main\\]"
                  + " d\\.s\\.r\\.w\\.WorkerMain"
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
      new ProcessLogConfigurator()
          .configure(
              context,
              Map.of(
                      ProcessLogConfigurator.PROPERTY,
                      ProcessLogConfigurator.BUILT_IN,
                      ProcessLogConfigurator.LEVEL_PROPERTY,
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
            Map.of(ProcessLogConfigurator.PROPERTY, "classpath"),
            Map.of(
                ProcessLogConfigurator.PROPERTY,
                ProcessLogConfigurator.BUILT_IN,
                "logback.configurationFile",
                "/etc/mine.xml"))) {
      LoggerContext context = new LoggerContext();
      try {
        assertThat(new ProcessLogConfigurator().configure(context, props::get))
            .as("%s", props)
            .isEqualTo(ExecutionStatus.INVOKE_NEXT_IF_ANY);
        assertThat(appender(context)).as("%s", props).isNull();
      } finally {
        context.stop();
      }
    }
  }

  /**
   * Rule "a Sluice process's log is a size-rotated file": past the size limit the file rolls over
   * into {@code .1} (the newest) up to {@code .N}, older ones are dropped, the newest lines are in
   * the file itself, and every file is owner-only; {@code {pid}} in the name is the process id.
   */
  @Test
  void theLogFileRollsOverBySizeKeepingTheConfiguredNumberOfOldFiles(@TempDir Path dir)
      throws IOException {
    String template = dir.resolve("logs").resolve("worker-abc-{pid}.log").toString();
    Path file = Path.of(template.replace("{pid}", Long.toString(ProcessHandle.current().pid())));
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new LogbackMDCAdapter());
    try {
      ExecutionStatus status =
          new ProcessLogConfigurator(0)
              .configure(
                  context,
                  Map.of(
                          ProcessLogConfigurator.PROPERTY,
                          ProcessLogConfigurator.BUILT_IN,
                          ProcessLogConfigurator.FILE_PROPERTY,
                          template,
                          ProcessLogConfigurator.MAX_FILE_BYTES_PROPERTY,
                          "2048",
                          ProcessLogConfigurator.MAX_FILES_PROPERTY,
                          "3")
                      ::get);
      assertThat(status).isEqualTo(ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
      Logger logger = context.getLogger("dev.sluice.runtime.worker.WorkerMain");
      for (int i = 0; i < 400; i++) {
        logger.info("line {} of a log that outgrows its file {}", i, "x".repeat(40));
      }
    } finally {
      context.stop();
    }
    List<String> names;
    try (Stream<Path> files = Files.list(file.getParent())) {
      names = files.map(p -> p.getFileName().toString()).sorted().toList();
    }
    String base = file.getFileName().toString();
    assertThat(names).containsExactly(base, base + ".1", base + ".2", base + ".3");
    assertThat(Files.readString(file))
        .containsPattern(
            "(?m)^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3} INFO  \\[\\S+\\]"
                + " d\\.s\\.r\\.w\\.WorkerMain - line 399 of a log");
    for (String name : names) {
      Path p = file.resolveSibling(name);
      assertThat(Files.size(p)).as("size of %s", name).isLessThan(2048 + 1024);
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p)))
          .as("permissions of %s", name)
          .isEqualTo("rw-------");
    }
    assertThat(Files.readString(file.resolveSibling(base + ".3"))).doesNotContain("line 0 of");
  }
}
