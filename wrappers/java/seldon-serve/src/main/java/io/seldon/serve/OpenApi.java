package io.seldon.serve;

import com.google.gson.Gson;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The REST contract as an OpenAPI document, served at GET /seldon.json (Seldon's path for it).
 * The document is wrappers/proto/openapi.yaml, packed into the jar; a model serves the paths of
 * the protocols PROTOCOL selects, so a client or a fuzzer sees only what answers.
 */
final class OpenApi {
  static final String PATH = "/seldon.json";

  private OpenApi() {}

  @SuppressWarnings("unchecked")
  static String document(boolean seldon, boolean v2) {
    Map<String, Object> spec;
    try (InputStream in = OpenApi.class.getResourceAsStream("openapi.yaml")) {
      if (in == null) {
        throw new IllegalStateException("openapi.yaml is not in the wrapper's jar");
      }
      spec = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    spec.remove("x-operations"); // the anchors' home in the YAML: every path already holds its copy
    Map<String, Object> paths = new LinkedHashMap<>();
    ((Map<String, Object>) spec.get("paths")).forEach((path, item) -> {
      boolean isV2 = path.equals("/v2") || path.startsWith("/v2/");
      if (path.equals(PATH) || (isV2 ? v2 : seldon)) {
        paths.put(path, item);
      }
    });
    spec.put("paths", paths);
    List<Map<String, Object>> tags = (List<Map<String, Object>>) spec.get("tags");
    tags.removeIf(tag -> tag.get("name").equals("seldon") ? !seldon : tag.get("name").equals("v2") && !v2);
    return new Gson().toJson(spec);
  }
}
