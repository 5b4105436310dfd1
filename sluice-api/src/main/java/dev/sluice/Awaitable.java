package dev.sluice;

/**
 * Something {@link Sluice#waitAny} can wait on: an {@link ObjectRef} (ready when its value or error
 * is available) or an {@link ObjectRefGenerator} (ready when its next item, or its end, is known,
 * so that {@code next()} would not block), as Ray's {@code ray.wait} treats both.
 */
public interface Awaitable {}
