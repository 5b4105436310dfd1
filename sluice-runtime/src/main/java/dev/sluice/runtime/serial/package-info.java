/**
 * Serialization of values and exceptions between Sluice processes (DESIGN "Security"): {@link
 * dev.sluice.runtime.serial.ObjectSerializer} for task arguments and results (Apache Fory, behind a
 * class-name allow-list, {@link dev.sluice.runtime.serial.ClassAllowList}), {@link
 * dev.sluice.runtime.serial.ThrowableCodec} for task exceptions (JDK serialization behind an {@code
 * ObjectInputFilter}), {@link dev.sluice.runtime.serial.RefCodec} for refs nested in values, and
 * {@link dev.sluice.runtime.serial.SerializedSizeLimit} for values past 2 GiB.
 *
 * <p>Threads: any. One {@code ObjectSerializer} per process, shared (a fixed pool of Fory
 * instances); the rest is stateless. No class outside the allow-list is ever loaded here.
 *
 * <p>Depends on no other runtime package (only {@code dev.sluice} and Fory); a {@code RefCodec}
 * must not call back into the serializer that uses it.
 */
package dev.sluice.runtime.serial;
