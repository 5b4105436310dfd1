package dev.sluice.runtime.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.rolling.RollingFileAppender;
import dev.sluice.runtime.common.OwnerOnlyFiles;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Logback's size-rotated file appender whose files are readable and writable by their user only,
 * like every other file a node creates: each file (the first and every one opened after a rollover)
 * is created owner-only before logback opens it.
 *
 * <p>Threading: logback calls it under its own lock.
 */
public final class OwnerOnlyRollingFileAppender extends RollingFileAppender<ILoggingEvent> {
  @Override
  public void openFile(String fileName) throws IOException {
    Path file = Path.of(fileName);
    if (file.getParent() != null) {
      OwnerOnlyFiles.createDirectories(file.getParent());
    }
    OwnerOnlyFiles.ensureFile(file);
    super.openFile(fileName);
  }
}
