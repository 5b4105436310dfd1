/**
 * The public API of Sluice, and the only package user code needs: {@link Sluice} (start or join a
 * cluster, submit tasks and generators, {@code put}/{@code get}/{@code wait}/{@code cancel}),
 * {@link SluiceConfig} and {@link TaskOptions}, the handles {@link ObjectRef} and {@link
 * ObjectRefGenerator}, the ids, and the typed exceptions (all {@link SluiceException}s). The arity
 * overloads ({@code FuncN}, {@code GeneratorFuncN}, {@code PublisherFuncN} and {@code TaskCalls},
 * whose static methods {@link Sluice} inherits) are generated on every build by {@code
 * src/build/java/CallsGenerator.java} into {@code target/generated-sources/calls}.
 *
 * <p>State: the only mutable state is {@link Sluice}'s one installed {@link SluiceRuntime} per
 * process, set by {@code init} (or by a worker at start) and cleared by {@code shutdown} under a
 * lock; every other type is an immutable value or builder. All {@link Sluice} methods are
 * thread-safe and run on the caller's thread; blocking ones ({@code get}, {@code wait}) block only
 * it.
 *
 * <p>Dependencies: none besides the JDK (no logging, no gRPC, no serializer). The runtime is found
 * through {@link java.util.ServiceLoader} ({@link SluiceRuntimeFactory}), so this package must
 * never refer to {@code dev.sluice.runtime}. Types marked {@link Internal} are wiring for the
 * runtime, not API (DESIGN "Architecture", "Identifiers").
 */
package dev.sluice;
