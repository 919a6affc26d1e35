package io.seldon.serve;

import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The contract's facts that are not messages -- service types, error reasons, gRPC codes, metric
 * names and the settings both wrappers read -- from wrappers/proto/contract.yaml, which the jar
 * carries beside this class. The python wrapper reads the same file; nothing here restates it.
 * Verbs are the contract's python names turned into Java's (transform_input is transformInput).
 */
final class Contract {
  private static final Pattern SNAKE = Pattern.compile("_([a-z])");
  private static final Map<String, Object> CONTRACT = load();

  /** What SERVICE_TYPE may say, in the contract's order. */
  static final List<String> SERVICE_TYPES = List.copyOf(section("service_types").keySet());

  private static final Map<String, Setting> SETTINGS = settings();
  private static final Map<Integer, Status.Code> GRPC_CODES = grpcCodes();

  /** The Prometheus metric every unit exports beside the model's own (`metrics` in the contract). */
  record MetricFamily(String name, String help) {}

  /** A run-time setting: type is "text", "whole", or the list of values it may take. */
  private record Setting(String name, Object type, Object defaultValue, List<String> entry) {}

  private Contract() {}

  // ---- service types -----------------------------------------------------------------------

  /** The verb an Open Inference Protocol request calls on a unit of this type, or null (a combiner). */
  static String inferVerb(String serviceType) {
    return verb(serviceType, "infer");
  }

  /** The verb the build checks a class of this type defines, or null (transformers default to the identity). */
  static String requiredVerb(String serviceType) {
    return verb(serviceType, "requires");
  }

  private static String verb(String serviceType, String role) {
    Map<String, Object> type = map(section("service_types").get(serviceType), "service_types." + serviceType);
    Object verb = type.get(role);
    return verb == null ? null : camelCase((String) verb);
  }

  private static String camelCase(String snake) {
    return SNAKE.matcher(snake).replaceAll(letter -> letter.group(1).toUpperCase(Locale.ROOT));
  }

  // ---- errors and metrics ------------------------------------------------------------------

  /** The reason Seldon's error body gives, by its name in the contract (BAD_DATA is MICROSERVICE_BAD_DATA). */
  static String reason(String name) {
    return (String) required(section("reasons"), name, "reasons");
  }

  /** The gRPC status an error answered `httpStatus` over REST gets: INTERNAL from 500 up, else INVALID_ARGUMENT. */
  static Status.Code grpcCode(int httpStatus) {
    Status.Code code = GRPC_CODES.get(httpStatus);
    if (code == null) {
      return httpStatus >= 500 ? Status.Code.INTERNAL : Status.Code.INVALID_ARGUMENT;
    }
    return code;
  }

  /** The table by status, read once: a name grpc-java does not know fails at start, not on an error. */
  private static Map<Integer, Status.Code> grpcCodes() {
    Map<Integer, Status.Code> codes = new LinkedHashMap<>();
    // YAML reads the statuses as numbers (a quoted one, "404", as a string): take either.
    Map<?, ?> table = section("grpc_status_by_http");
    table.forEach((status, name) -> codes.put(Integer.valueOf(status.toString()), Status.Code.valueOf((String) name)));
    return Map.copyOf(codes);
  }

  /** A metric of the contract's (feedback, reward): its name as created, before a counter's _total. */
  static MetricFamily metric(String which) {
    Map<String, Object> metric = map(required(section("metrics"), which, "metrics"), "metrics." + which);
    return new MetricFamily((String) metric.get("name"), (String) metric.get("help"));
  }

  // ---- settings ----------------------------------------------------------------------------

  /** A whole-number setting from `env`, or its default when unset or blank. */
  static int whole(Map<String, String> env, String name) throws StartupException {
    Setting setting = setting(name, "whole");
    String raw = raw(env, name);
    return raw.isEmpty() ? ((Number) setting.defaultValue()).intValue() : parseWhole(name, raw);
  }

  /** A whole-number setting of Java's own (not in the contract), read the same way. */
  static int whole(Map<String, String> env, String name, int fallback) throws StartupException {
    String raw = raw(env, name);
    return raw.isEmpty() ? fallback : parseWhole(name, raw);
  }

  /** A text setting from `env` (stripped), or its default when unset or blank. */
  static String text(Map<String, String> env, String name) {
    Setting setting = setting(name, "text");
    String raw = raw(env, name);
    return raw.isEmpty() ? String.valueOf(setting.defaultValue()) : raw;
  }

  /**
   * A setting taking one of a list of values, matched in any case and answered as the contract
   * spells it (model is MODEL); its default when unset or blank.
   */
  static String choice(Map<String, String> env, String name) throws StartupException {
    Setting setting = setting(name, "choice");
    String raw = raw(env, name);
    if (raw.isEmpty()) {
      return (String) setting.defaultValue();
    }
    List<String> allowed = allowed(name);
    for (String value : allowed) {
      if (value.equalsIgnoreCase(raw)) {
        return value;
      }
    }
    throw new StartupException(quoted(name, raw) + " is not one of " + String.join(", ", allowed));
  }

  /** The values a choice setting may take. */
  @SuppressWarnings("unchecked")
  static List<String> allowed(String name) {
    return List.copyOf((List<String>) setting(name, "choice").type());
  }

  private static String raw(Map<String, String> env, String name) {
    return env.getOrDefault(name, "").strip();
  }

  private static int parseWhole(String name, String raw) throws StartupException {
    try {
      return Integer.parseInt(raw);
    } catch (NumberFormatException e) {
      // A number too large for Java's int would read as "not a whole number": say what is wrong.
      String range = raw.matches("[+-]?[0-9]+") ? " from " + Integer.MIN_VALUE + " to " + Integer.MAX_VALUE : "";
      throw new StartupException(quoted(name, raw) + " is not a whole number" + range);
    }
  }

  /** NAME='value', as the python wrapper words it. */
  private static String quoted(String name, String raw) {
    return name + "='" + raw + "'";
  }

  /** Every name the contract's entry for `name` gives (an entry may name several settings). */
  static List<String> entry(String name) {
    return known(name).entry();
  }

  /** The setting named, which must be of `kind` (text, whole, choice): another is a programming error. */
  private static Setting setting(String name, String kind) {
    Setting setting = known(name);
    String actual = setting.type() instanceof List ? "choice" : String.valueOf(setting.type());
    if (!actual.equals(kind)) {
      throw new IllegalArgumentException(name + " is a " + actual + " setting in the contract, not a " + kind);
    }
    return setting;
  }

  private static Setting known(String name) {
    Setting setting = SETTINGS.get(name);
    if (setting == null) {
      throw new IllegalArgumentException("the contract has no setting " + name);
    }
    return setting;
  }

  /** Each setting by name: an entry naming several ("API_TYPE, PERSISTENCE") gives each its type and default. */
  private static Map<String, Setting> settings() {
    Map<String, Setting> settings = new LinkedHashMap<>();
    for (Object entry : (List<?>) CONTRACT.get("settings")) {
      Map<String, Object> item = map(entry, "settings");
      List<String> names = Arrays.stream(((String) item.get("name")).split(",")).map(String::strip).toList();
      for (String name : names) {
        settings.put(name, new Setting(name, item.get("type"), item.get("default"), names));
      }
    }
    return Map.copyOf(settings);
  }

  // ---- the file ----------------------------------------------------------------------------

  private static Map<String, Object> load() {
    try (InputStream in = Contract.class.getResourceAsStream("contract.yaml")) {
      if (in == null) {
        throw new IllegalStateException("contract.yaml is not in the wrapper's jar");
      }
      return new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Map<String, Object> section(String name) {
    return map(CONTRACT.get(name), name);
  }

  private static Object required(Map<String, Object> section, String key, String where) {
    Object value = section.get(key);
    if (value == null) {
      throw new IllegalArgumentException("the contract has no " + where + "." + key);
    }
    return value;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object value, String where) {
    if (!(value instanceof Map)) {
      throw new IllegalArgumentException("the contract has no mapping " + where);
    }
    return (Map<String, Object>) value;
  }
}
