/**
 * Runnable examples: {@link Demo}, the tour the README starts with {@code ./mvnw -q -Pdemo -pl
 * sluice-examples -am package}, and {@link Example}, the README's first example, kept here so that
 * the build proves it compiles and runs.
 *
 * <p>Each is a plain driver: a {@code main} on the main thread that starts an embedded cluster with
 * {@code Sluice.init}, runs tasks and shuts it down. They use only the public API ({@code
 * dev.sluice}) and must not depend on {@code dev.sluice.runtime} classes, so they show exactly what
 * a user can write (DESIGN "Architecture").
 */
package dev.sluice.examples;
