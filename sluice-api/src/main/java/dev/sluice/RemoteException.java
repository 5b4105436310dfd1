package dev.sluice;

/**
 * Stands in for an exception thrown in another process whose class could not be rebuilt here. It
 * carries the original class name, message and the remote stack trace.
 */
public final class RemoteException extends SluiceException {
  private final String remoteClassName;
  private final String remoteStackTrace;

  /** Creates the stand-in for a remote exception of class {@code remoteClassName}. */
  public RemoteException(String remoteClassName, String message, String remoteStackTrace) {
    super(remoteClassName + (message == null ? "" : ": " + message));
    this.remoteClassName = remoteClassName;
    this.remoteStackTrace = remoteStackTrace;
  }

  /** The fully qualified class name of the original exception. */
  public String remoteClassName() {
    return remoteClassName;
  }

  /** The original exception's stack trace as printed in the remote process. */
  public String remoteStackTrace() {
    return remoteStackTrace;
  }
}
