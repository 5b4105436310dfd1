package com.example.outside;

import java.io.Serializable;

/** Test-only: a serializable non-exception value in a package outside the allow-list. */
public record OutsidePayload(String data) implements Serializable {}
