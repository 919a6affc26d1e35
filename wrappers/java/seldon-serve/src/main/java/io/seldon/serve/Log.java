package io.seldon.serve;

import com.google.gson.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;

/**
 * One line per message on standard error, like the python wrapper's log: text, or under
 * LOG_FORMAT=json one JSON object with the same fields (time, level, logger, pid, message, and a
 * request's fields on an access log line). Plain System.err on purpose: java.util.logging stops
 * logging once the JVM begins to shut down, which is exactly when the graceful-shutdown messages
 * are written.
 */
final class Log {
  enum Level {
    DEBUG,
    INFO,
    WARNING,
    ERROR
  }

  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss,SSS");
  private static final DateTimeFormatter UTC = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'");
  private static final long PID = ProcessHandle.current().pid();
  private static final String LOGGER = "seldon_serve";
  private static volatile Level threshold = Level.INFO;
  private static volatile boolean json;

  private Log() {}

  /** A level of LOG_LEVEL's: Settings has checked it against the contract's list. */
  static void setLevel(String name) {
    threshold = Level.valueOf(name);
  }

  /** LOG_FORMAT: text or json (Settings has checked it against the contract's list). */
  static void setFormat(String format) {
    json = format.equals("json");
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
      write(level, LOGGER, message, Map.of());
    }
  }

  /** A line of `logger` with these fields besides the message (shown only in JSON). */
  static void write(Level level, String logger, String message, Map<String, ?> fields) {
    if (!json) {
      System.err.println(LocalDateTime.now().format(TIME) + " " + level + " [" + PID + "] " + logger + ": " + message);
      return;
    }
    JsonObject line = new JsonObject();
    line.addProperty("time", LocalDateTime.now(ZoneOffset.UTC).format(UTC));
    line.addProperty("level", level.name());
    line.addProperty("logger", logger);
    line.addProperty("pid", PID);
    line.addProperty("message", message);
    fields.forEach((name, value) -> {
      if (value instanceof Number number) {
        line.addProperty(name, number);
      } else if (value != null) {
        line.addProperty(name, value.toString());
      }
    });
    System.err.println(line);
  }

  static String stackTrace(Throwable e) {
    StringWriter out = new StringWriter();
    e.printStackTrace(new PrintWriter(out));
    return out.toString().stripTrailing();
  }
}
