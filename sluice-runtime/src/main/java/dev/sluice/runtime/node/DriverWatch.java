package dev.sluice.runtime.node;

import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.RegisterDriverRequest;
import java.util.HexFormat;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the processes of the drivers attached to this node (they run on its machine): when one
 * exits (a driver killed outright has no chance to say so), the node forgets it and has the control
 * service finish its job, so that every node frees the job's objects. A driver that shuts down
 * cleanly finishes its job itself; finishing twice is harmless.
 *
 * <p>Exits are seen on the JDK's process-handle threads (it polls a process that is not its child);
 * the control service is called from there, with a deadline.
 */
final class DriverWatch {
  private static final Logger log = LoggerFactory.getLogger(DriverWatch.class);

  private final ControlClient control;
  private final Consumer<Address> forget;

  /** {@code forget} drops a gone driver from the node's own records. */
  DriverWatch(ControlClient control, Consumer<Address> forget) {
    this.control = control;
    this.forget = forget;
  }

  /** Watches the driver that registered with {@code req}, if it said which process it is. */
  void watch(RegisterDriverRequest req) {
    if (req.getPid() <= 0 || req.getJobId().isEmpty()) {
      return;
    }
    ProcessHandle.of(req.getPid())
        .ifPresentOrElse(p -> p.onExit().thenRun(() -> gone(req)), () -> gone(req));
  }

  private void gone(RegisterDriverRequest req) {
    Address driver = req.getDriver();
    log.info(
        "driver {} (pid {}) exited: finishing its job {}",
        Addresses.workerId(driver),
        req.getPid(),
        HexFormat.of().formatHex(req.getJobId().toByteArray()));
    forget.accept(driver);
    try {
      control.finishJob(req.getJobId(), "its driver (pid " + req.getPid() + ") exited");
    } catch (RuntimeException e) {
      log.warn(
          "could not tell the control service that the job of driver {} finished: {}",
          Addresses.workerId(driver),
          e.toString());
    }
  }
}
