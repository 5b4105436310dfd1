package com.example.outside;

/** Test-only: a record in a package that tests leave off the allow-list. */
public record OutsideRecord(int value) {}
