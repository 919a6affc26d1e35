package io.seldon.serve;

/** Calls into the model: its exceptions become Seldon errors, with the stack trace in the log. */
final class UserCode {
  private UserCode() {}

  interface Call<T> {
    T call() throws Exception;
  }

  static <T> T call(Call<T> method) {
    try {
      return method.call();
    } catch (SeldonException e) {
      throw e;
    } catch (Exception | LinkageError | StackOverflowError e) {
      Log.error("the model raised " + Log.stackTrace(e));
      throw SeldonException.internal(describe(e));
    }
  }

  /** "IllegalArgumentException: the message", the way a user reads an error. */
  static String describe(Throwable e) {
    String message = e.getMessage();
    return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }
}
