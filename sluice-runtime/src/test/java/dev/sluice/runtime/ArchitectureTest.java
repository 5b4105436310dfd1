package dev.sluice.runtime;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The rules of the runtime's layout (DESIGN "Architecture"), checked on the compiled classes so
 * that breaking one fails the build.
 */
class ArchitectureTest {
  private static final JavaClasses RUNTIME =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("dev.sluice.runtime");

  /** The role suffixes of the classes that may touch gRPC outside the {@code rpc} package. */
  private static final List<String> ADAPTOR_SUFFIXES =
      List.of("GrpcService", "Client", "Stream", "Marshaller");

  /**
   * Rule: the runtime's packages ({@code core}, {@code executor}, {@code worker}, {@code node},
   * ...) depend on each other without a cycle, so each can be read, tested and changed from the
   * bottom up. A worker JVM's entry point lives in {@code worker}, above both {@code core} and
   * {@code executor}, because {@code core} wires an executor.
   */
  @Test
  void runtimePackagesAreFreeOfCycles() {
    slices().matching("dev.sluice.runtime.(*)..").should().beFreeOfCycles().check(RUNTIME);
  }

  /**
   * Rule "gRPC stays in adaptors": outside {@code rpc}, only a {@code *GrpcService}, {@code
   * *Client}, {@code *Stream} or {@code *Marshaller} (or a class nested in one) uses {@code
   * io.grpc}; policy and state classes never see a stub, an observer or a status.
   */
  @Test
  void onlyAdaptorsUseGrpc() {
    noClasses()
        .that()
        .resideOutsideOfPackage("dev.sluice.runtime.rpc..")
        .and(notAnAdaptor())
        .should()
        .accessClassesThat()
        .resideInAPackage("io.grpc..")
        .orShould()
        .dependOnClassesThat(
            DescribedPredicate.describe(
                "are gRPC stubs, observers or statuses",
                c ->
                    c.getPackageName().startsWith("io.grpc.stub")
                        || c.getName().equals("io.grpc.Status")
                        || c.getName().equals("io.grpc.StatusRuntimeException")))
        .check(RUNTIME);
  }

  /**
   * Rule: the object store is plain Java over shared memory: no protobuf, no gRPC, no wire types.
   */
  @Test
  void objectStoreIsFreeOfProtobufAndGrpc() {
    noClasses()
        .that()
        .resideInAPackage("dev.sluice.runtime.objectstore..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("com.google.protobuf..", "io.grpc..", "dev.sluice.runtime.rpc..")
        .check(RUNTIME);
  }

  private static DescribedPredicate<JavaClass> notAnAdaptor() {
    return DescribedPredicate.describe(
        "are not gRPC adaptors (named *GrpcService, *Client, *Stream or *Marshaller)",
        c -> {
          JavaClass top = c;
          while (top.getEnclosingClass().isPresent()) {
            top = top.getEnclosingClass().get();
          }
          String name = top.getSimpleName();
          return ADAPTOR_SUFFIXES.stream().noneMatch(name::endsWith);
        });
  }
}
