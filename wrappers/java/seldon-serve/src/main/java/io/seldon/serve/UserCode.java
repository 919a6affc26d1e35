package io.seldon.serve;

import java.math.BigDecimal;

/** Calls into the model: its exceptions become Seldon errors, with the stack trace in the log. */
final class UserCode {
  private UserCode() {}

  interface Call<T> {
    T call() throws Exception;
  }

  static <T> T call(Call<T> method) {
    Deadlines.begin();
    boolean interrupted = false;
    try {
      return method.call();
    } catch (SeldonException e) {
      interrupted = Deadlines.end();
      throw interrupted ? timedOut() : e;
    } catch (Exception | LinkageError | StackOverflowError e) {
      interrupted = Deadlines.end();
      if (interrupted) {
        throw timedOut();
      }
      Log.error("the model raised " + Log.stackTrace(e));
      throw SeldonException.internal(describe(e));
    } finally {
      if (!interrupted) {
        Deadlines.end();
      }
    }
  }

  private static SeldonException timedOut() {
    String message = String.format("the model did not return within %s s (REQUEST_TIMEOUT_SECONDS)",
        new BigDecimal(Deadlines.seconds()).stripTrailingZeros().toPlainString());
    Log.error(message + ": interrupted");
    return new SeldonException(message, 504, SeldonException.INTERNAL_ERROR);
  }

  /** "IllegalArgumentException: the message", the way a user reads an error. */
  static String describe(Throwable e) {
    String message = e.getMessage();
    return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }
}
