package io.seldon.serve;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

/**
 * One line per message on standard error, like the python wrapper's log. Plain System.err on
 * purpose: java.util.logging stops logging once the JVM begins to shut down, which is exactly
 * when the graceful-shutdown messages are written.
 */
final class Log {
  enum Level {
    DEBUG,
    INFO,
    WARNING,
    ERROR
  }

  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss,SSS");
  private static volatile Level threshold = Level.INFO;

  private Log() {}

  /** A level of LOG_LEVEL's: Settings has checked it against the contract's list. */
  static void setLevel(String name) {
    threshold = Level.valueOf(name);
  }

  static boolean enabled(Level level) {
    return level.compareTo(threshold) >= 0;
  }

  static void debug(String message) {
    write(Level.DEBUG, message);
  }

  static void info(String message) {
    write(Level.INFO, message);
  }

  static void warning(String message) {
    write(Level.WARNING, message);
  }

  static void error(String message) {
    write(Level.ERROR, message);
  }

  private static void write(Level level, String message) {
    if (enabled(level)) {
      System.err.println(LocalDateTime.now().format(TIME) + " " + level + " [" + ProcessHandle.current().pid()
          + "] seldon_serve: " + message);
    }
  }

  static String stackTrace(Throwable e) {
    StringWriter out = new StringWriter();
    e.printStackTrace(new PrintWriter(out));
    return out.toString().stripTrailing();
  }
}
