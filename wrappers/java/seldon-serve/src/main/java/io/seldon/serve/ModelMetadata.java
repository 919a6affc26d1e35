package io.seldon.serve;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/** Model metadata: defaults, the model's initMetadata(), and MODEL_METADATA, merged once. */
final class ModelMetadata {
  static final List<String> FIELDS = List.of("name", "versions", "platform", "inputs", "outputs", "custom");

  private ModelMetadata() {}

  /** Name and version from the image Seldon says this unit runs (PREDICTIVE_UNIT_IMAGE). */
  static Map<String, Object> defaults(String modelName) {
    String image = System.getenv().getOrDefault("PREDICTIVE_UNIT_IMAGE", "");
    String lastPart = image.substring(image.lastIndexOf('/') + 1);
    String repository = image;
    String tag = "";
    if (lastPart.contains(":")) {
      repository = image.substring(0, image.lastIndexOf(':'));
      tag = image.substring(image.lastIndexOf(':') + 1);
    }
    String name = repository.substring(repository.lastIndexOf('/') + 1);
    Map<String, Object> defaults = new LinkedHashMap<>();
    defaults.put("name", name.isEmpty() ? modelName : name);
    defaults.put("versions", tag.isEmpty() ? List.of() : List.of(tag));
    defaults.put("platform", "seldon");
    defaults.put("inputs", List.of());
    defaults.put("outputs", List.of());
    defaults.put("custom", Map.of());
    return defaults;
  }

  static Map<String, Object> fromEnvironment() throws StartupException {
    String raw = System.getenv().getOrDefault("MODEL_METADATA", "").strip();
    if (raw.isEmpty()) {
      return Map.of();
    }
    Object value;
    try {
      value = new Yaml(new SafeConstructor(new LoaderOptions())).load(raw); // JSON is YAML too
    } catch (YAMLException e) {
      throw new StartupException("MODEL_METADATA is neither YAML nor JSON: " + e.getMessage().replace('\n', ' '));
    }
    if (!(value instanceof Map<?, ?> map)) {
      throw new StartupException(
          "MODEL_METADATA must be a mapping of name, versions, platform, inputs, outputs, custom");
    }
    Map<String, Object> out = new LinkedHashMap<>();
    map.forEach((key, item) -> out.put(String.valueOf(key), item));
    return out;
  }

  /**
   * The name the Open Inference Protocol serves the model by (/v2/models/&lt;name&gt;): the metadata's
   * when MODEL_METADATA or initMetadata() gives one; else the graph node's, as Seldon's operator
   * passes it to a v2 unit (MLSERVER_MODEL_NAME, then PREDICTIVE_UNIT_ID), since its executor calls
   * /v2/models/&lt;node name&gt;/infer; else modelName (the class's).
   */
  static String openInferenceName(Map<String, ?> user, String modelName, Map<String, String> env)
      throws StartupException {
    for (Map<String, ?> given : List.of(fromEnvironment(), user == null ? Map.<String, Object>of() : user)) {
      if (given.containsKey("name")) {
        return String.valueOf(given.get("name"));
      }
    }
    for (String variable : List.of("MLSERVER_MODEL_NAME", "PREDICTIVE_UNIT_ID")) {
      if (!env.getOrDefault(variable, "").isEmpty()) {
        return env.get(variable);
      }
    }
    return modelName;
  }

  /** Defaults, overridden by initMetadata(), overridden by MODEL_METADATA; then checked. */
  static Map<String, Object> merge(String modelName, Map<String, ?> user) throws StartupException {
    Map<String, Object> merged = defaults(modelName);
    if (user != null) {
      merged.putAll(user);
    }
    merged.putAll(fromEnvironment());
    Set<String> unknown = new TreeSet<>(merged.keySet());
    FIELDS.forEach(unknown::remove);
    if (!unknown.isEmpty()) {
      throw new StartupException("model metadata has unknown field(s) " + String.join(", ", unknown)
          + "; allowed: " + String.join(", ", FIELDS));
    }
    if (!(merged.get("versions") instanceof List<?> versions)) {
      throw new StartupException("model metadata: versions must be a list of strings");
    }
    merged.put("versions", versions.stream().map(String::valueOf).toList());
    for (String key : List.of("inputs", "outputs")) {
      if (!(merged.get(key) instanceof List<?> items) || !items.stream().allMatch(i -> i instanceof Map<?, ?>)) {
        throw new StartupException("model metadata: " + key + " must be a list of mappings");
      }
      merged.put(key, new ArrayList<>(items));
    }
    if (!(merged.get("custom") instanceof Map<?, ?> custom)) {
      throw new StartupException("model metadata: custom must be a mapping of strings");
    }
    Map<String, String> strings = new LinkedHashMap<>();
    custom.forEach((key, value) -> strings.put(String.valueOf(key), String.valueOf(value)));
    merged.put("custom", strings);
    merged.put("name", String.valueOf(merged.get("name")));
    merged.put("platform", String.valueOf(merged.get("platform")));
    return merged;
  }
}
