/**
 * The {@code sluice} command line (picocli): {@link SluiceCli} dispatches to {@link StartCommand}
 * (launches a {@code NodeDaemon} JVM through {@link DaemonLauncher}, waits until it is up, prints
 * {@link StartHints}), {@link StopCommand}, {@link StatusCommand} (prints a {@link NodeTable}),
 * {@link LogsCommand} (lists and prints nodes' log files through their node managers) and the state
 * commands ({@link ListCommand}, {@link SummaryCommand}, {@link TimelineCommand}). The commands
 * that talk to a running head take {@link ClusterOptions} and reach it through one {@link
 * ClusterConnection} (finding the head, its token and TLS, and wording failures). State lives on
 * disk under the session root ({@link SessionRootOption}): a {@link DaemonRecord} per started
 * daemon in {@code daemons/}, the session directories ({@link Session}) and the cluster token
 * files. Output and exit codes are what users and scripts see: 0 success, 1 failure ({@link
 * CliException}, its message alone), 2 usage error.
 *
 * <p>Threads: each command runs on the main thread and returns its exit code; shutdown hooks kill a
 * daemon whose start was abandoned and, with {@code start --block}, stop the foreground daemon.
 * Daemons are always separate processes, never this JVM.
 *
 * <p>Depends on {@code sluice-runtime} (daemon configuration, RPC and token handling) but not on
 * its core worker: the CLI is not a driver and must not call {@code Sluice.init} (DESIGN "Clusters
 * and object transfer", "Security").
 */
package dev.sluice.cli;
