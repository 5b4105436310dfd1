/**
 * Serialization of values and exceptions between Sluice processes: {@link
 * dev.sluice.runtime.serial.ObjectSerializer} for task arguments and results (Apache Fory, behind a
 * class-name allow-list), {@link dev.sluice.runtime.serial.ThrowableCodec} for task exceptions (JDK
 * serialization behind an {@code ObjectInputFilter}), and {@link
 * dev.sluice.runtime.serial.RefCodec} for refs nested in values.
 */
package dev.sluice.runtime.serial;
