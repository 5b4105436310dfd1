/**
 * Logs of Sluice's own processes (DESIGN "Logs"): {@link ProcessLogging} puts the shipped logback
 * on a worker's or daemon's class path and turns it on, {@link ProcessLogConfigurator} (a logback
 * {@code Configurator} service, run inside those processes) writes their size-rotated, owner-only
 * file, {@link LogFileNames} names the files, {@link LogFiles} lists and reads a session's logs for
 * {@code sluice logs}, {@link LogTail} gives the end of a file for error messages.
 *
 * <p>Threads: the configurator runs once per process on the thread that first logs; the rest is
 * stateless or used by one thread (a {@link LogFiles.Reader}).
 *
 * <p>Depends only on {@code common}; classes that touch logback are loaded only in processes that
 * have it.
 */
package dev.sluice.runtime.logging;
