package io.seldon.serve.v2;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.seldon.serve.Json;
import io.seldon.serve.RestProtocol;
import io.seldon.serve.SeldonException;
import io.seldon.serve.v2.OpenInference.Input;
import io.seldon.serve.v2.OpenInference.Output;
import io.seldon.serve.v2.OpenInference.TensorMetadata;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/** The protocol's REST paths, under /v2: JSON answers, and errors as {"error": "..."}. */
final class V2Rest extends RestProtocol {
  private static final Gson GSON = new Gson();

  private final OpenInference api;

  V2Rest(OpenInference api) {
    this.api = api;
  }

  @Override
  public boolean serves(String path) {
    return path.equals("/v2") || path.startsWith("/v2/");
  }

  @Override
  protected String error(String message) {
    JsonObject body = new JsonObject();
    body.addProperty("error", message);
    return GSON.toJson(body);
  }

  @Override
  protected Reply answer(String method, String path, Supplier<JsonElement> body) {
    List<String> parts = new ArrayList<>(Arrays.stream(path.split("/")).filter(p -> !p.isEmpty()).toList());
    parts.remove(0); // "v2"
    if (parts.isEmpty()) {
      return get(method, serverMetadata(), 200);
    }
    if (parts.size() == 2 && parts.get(0).equals("health") && (parts.get(1).equals("live")
        || parts.get(1).equals("ready"))) {
      boolean up = parts.get(1).equals("live") || api.ready();
      return get(method, single(parts.get(1), up), up ? 200 : 503);
    }
    if (parts.size() < 2 || !parts.get(0).equals("models")) {
      throw OpenInference.notFound("no endpoint " + path);
    }
    String model = parts.get(1);
    List<String> rest = parts.subList(2, parts.size());
    String version = null;
    if (rest.size() >= 2 && rest.get(0).equals("versions")) {
      version = rest.get(1);
      rest = rest.subList(2, rest.size());
    }
    if (rest.isEmpty()) {
      return get(method, modelMetadata(model, version), 200);
    }
    if (rest.equals(List.of("ready"))) {
      api.checkModel(model, version);
      boolean up = api.ready();
      JsonObject answer = single("ready", up);
      answer.addProperty("name", model);
      return get(method, answer, up ? 200 : 503);
    }
    if (rest.equals(List.of("infer"))) {
      if (!method.equals("POST")) {
        throw SeldonException.methodNotAllowed(method, "POST");
      }
      api.checkModel(model, version); // a request to another model is a 404, whatever it holds
      return new Reply(200, GSON.toJson(infer(model, version, body.get())));
    }
    throw OpenInference.notFound("no endpoint " + path);
  }

  private static Reply get(String method, JsonObject answer, int status) {
    if (!method.equals("GET") && !method.equals("HEAD")) {
      throw SeldonException.methodNotAllowed(method, "GET", "HEAD");
    }
    return new Reply(status, GSON.toJson(answer));
  }

  private static JsonObject single(String name, boolean value) {
    JsonObject object = new JsonObject();
    object.addProperty(name, value);
    return object;
  }

  private JsonObject serverMetadata() {
    JsonObject metadata = new JsonObject();
    metadata.addProperty("name", OpenInference.SERVER_NAME);
    metadata.addProperty("version", api.serverVersion());
    metadata.add("extensions", new JsonArray());
    return metadata;
  }

  private JsonObject modelMetadata(String model, String version) {
    api.checkModel(model, version);
    JsonObject metadata = new JsonObject();
    metadata.addProperty("name", api.name());
    metadata.add("versions", GSON.toJsonTree(api.versions()));
    metadata.addProperty("platform", api.platform());
    for (String key : List.of("inputs", "outputs")) {
      JsonArray tensors = new JsonArray();
      api.tensorMetadata(key).forEach(tensor -> tensors.add(tensorMetadata(tensor)));
      metadata.add(key, tensors);
    }
    return metadata;
  }

  private static JsonObject tensorMetadata(TensorMetadata tensor) {
    JsonObject json = new JsonObject();
    json.addProperty("name", tensor.name());
    json.addProperty("datatype", tensor.datatype());
    json.add("shape", GSON.toJsonTree(tensor.shape()));
    return json;
  }

  /** An inference request (`body`: null when empty) and its answer. */
  private JsonObject infer(String model, String version, JsonElement body) {
    if (body == null) {
      throw new SeldonException("empty request: send an inference request as the JSON body");
    }
    JsonObject request = Json.object(body, "an inference request");
    if (!(request.get("inputs") instanceof JsonArray inputs)) {
      throw new SeldonException("an inference request needs inputs: a list of tensors");
    }
    List<Input> decoded = new ArrayList<>();
    for (JsonElement input : inputs) {
      decoded.add(TensorJson.input(input));
    }
    Output output = api.infer(model, version, decoded, requested(request));
    JsonObject response = new JsonObject();
    response.addProperty("model_name", api.name());
    String answered = api.answeredVersion(version);
    if (answered != null) {
      response.addProperty("model_version", answered);
    }
    if (request.get("id") instanceof JsonPrimitive id && id.isString()) {
      response.addProperty("id", id.getAsString());
    }
    JsonArray outputs = new JsonArray();
    outputs.add(TensorJson.output(output));
    response.add("outputs", outputs);
    return response;
  }

  /** The outputs a request names. */
  private static List<String> requested(JsonObject request) {
    List<String> requested = new ArrayList<>();
    if (request.has("outputs")) {
      if (!(request.get("outputs") instanceof JsonArray outputs)) {
        throw new SeldonException("outputs must be a list of objects with a name");
      }
      for (JsonElement output : outputs) {
        if (!(output instanceof JsonObject object) || !(object.get("name") instanceof JsonPrimitive outputName)) {
          throw new SeldonException("outputs must be a list of objects with a name");
        }
        requested.add(outputName.getAsString());
      }
    }
    return requested;
  }
}
