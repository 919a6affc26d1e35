package io.seldon.serve;

/** The microservice cannot start; the message tells the user what to fix, in one line. */
public class StartupException extends Exception {
  public StartupException(String message) {
    super(message);
  }
}
