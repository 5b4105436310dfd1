package dev.sluice.runtime;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * Rule checked (DESIGN "Architecture"): the runtime's packages ({@code core}, {@code executor},
 * {@code worker}, {@code node}, ...) depend on each other without a cycle, so each can be read,
 * tested and changed from the bottom up. A worker JVM's entry point lives in {@code worker}, above
 * both {@code core} and {@code executor}, because {@code core} wires an executor.
 */
class PackageCyclesTest {
  private static final JavaClasses RUNTIME =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("dev.sluice.runtime");

  @Test
  void runtimePackagesAreFreeOfCycles() {
    slices().matching("dev.sluice.runtime.(*)..").should().beFreeOfCycles().check(RUNTIME);
  }
}
