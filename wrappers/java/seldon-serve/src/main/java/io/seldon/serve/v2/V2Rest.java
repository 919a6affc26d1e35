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

/**
 * The protocol's REST paths, under /v2: JSON answers (with the binary tensor extension, tensors'
 * bytes after the JSON: BinaryTensors), and errors as {"error": "..."}.
 */
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
  protected Reply answer(String method, String path, Request request) {
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
    // route and aggregate: the paths Seldon Core 1's executor calls on a router and a combiner in
    // a `protocol: v2` graph (Seldon's extensions, not the protocol's).
    if (rest.size() == 1 && List.of("infer", "route", "aggregate").contains(rest.get(0))) {
      if (!method.equals("POST")) {
        throw SeldonException.methodNotAllowed(method, "POST");
      }
      api.checkModel(model, version); // a request to another model is a 404, whatever it holds
      BinaryTensors.Body body = BinaryTensors.split(request.body(), request.header(BinaryTensors.HEADER));
      if (body.json() == null) {
        throw new SeldonException("empty request: send an inference request as the JSON body");
      }
      return switch (rest.get(0)) {
        case "route" -> json(200, route(model, version, body));
        case "aggregate" -> aggregate(model, version, body);
        default -> infer(model, version, body);
      };
    }
    throw OpenInference.notFound("no endpoint " + path);
  }

  private static Reply get(String method, JsonObject answer, int status) {
    if (!method.equals("GET") && !method.equals("HEAD")) {
      throw SeldonException.methodNotAllowed(method, "GET", "HEAD");
    }
    return json(status, answer);
  }

  private static Reply json(int status, JsonObject answer) {
    return Reply.json(status, GSON.toJson(answer));
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
    metadata.add("extensions", GSON.toJsonTree(OpenInference.EXTENSIONS));
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

  /** An inference request and its answer. */
  private Reply infer(String model, String version, BinaryTensors.Body body) {
    JsonObject request = Json.object(body.json(), "an inference request");
    List<Output> outputs = api.infer(model, version, inputs(request, body.binary()), requested(request));
    return response(outputs, version, request);
  }

  /** A router's child for a request, as a SeldonMessage: the form Seldon's executor reads a route from. */
  private JsonObject route(String model, String version, BinaryTensors.Body body) {
    JsonObject request = Json.object(body.json(), "an inference request");
    long branch = api.route(model, version, inputs(request, body.binary()));
    JsonArray row = new JsonArray();
    row.add(branch);
    JsonArray ndarray = new JsonArray();
    ndarray.add(row);
    JsonObject data = new JsonObject();
    data.add("names", new JsonArray());
    data.add("ndarray", ndarray);
    JsonObject answer = new JsonObject();
    answer.add("data", data);
    return answer;
  }

  /** A combiner's answer to the list of its children's answers (their outputs, or inputs). */
  private Reply aggregate(String model, String version, BinaryTensors.Body body) {
    if (!(body.json() instanceof JsonArray children) || children.isEmpty()) {
      throw new SeldonException("aggregate needs a non-empty list of inference responses (or requests)");
    }
    List<List<Input>> decoded = new ArrayList<>();
    for (JsonElement child : children) {
      JsonObject message = Json.object(child, "an inference response");
      decoded.add(tensors(message, message.has("outputs") ? "outputs" : "inputs", body.binary()));
    }
    body.binary().checkAllTaken();
    return response(api.aggregate(model, version, decoded), version, new JsonObject());
  }

  /** A request's inputs, decoded, every byte of its binary part taken. */
  private static List<Input> inputs(JsonObject request, BinaryTensors.Part binary) {
    List<Input> inputs = tensors(request, "inputs", binary);
    binary.checkAllTaken();
    return inputs;
  }

  /** A message's tensors under `key` (a request's inputs; a child's answer's outputs), decoded. */
  private static List<Input> tensors(JsonObject message, String key, BinaryTensors.Part binary) {
    if (!(message.get(key) instanceof JsonArray tensors)) {
      String what = key.equals("inputs") ? "an inference request" : "an inference response";
      throw new SeldonException(what + " needs " + key + ": a list of tensors");
    }
    List<Input> decoded = new ArrayList<>();
    for (JsonElement tensor : tensors) {
      decoded.add(TensorJson.input(tensor, binary));
    }
    return decoded;
  }

  /** The answer to a request: its id, and the outputs it asks for in binary after the JSON. */
  private Reply response(List<Output> outputsGiven, String version, JsonObject request) {
    JsonElement id = request.get("id");
    JsonObject response = new JsonObject();
    response.addProperty("model_name", api.name());
    String answered = api.answeredVersion(version);
    if (answered != null) {
      response.addProperty("model_version", answered);
    }
    if (id instanceof JsonPrimitive given && given.isString()) {
      response.addProperty("id", given.getAsString());
    }
    JsonArray outputs = new JsonArray();
    response.add("outputs", outputs);
    List<byte[]> binaries = new ArrayList<>();
    for (Output output : outputsGiven) {
      if (BinaryTensors.wanted(request, output.name())) {
        byte[] elements = RawContents.pack(output.tensor()).toByteArray();
        outputs.add(TensorJson.binaryOutput(output, elements.length));
        binaries.add(elements);
      } else {
        outputs.add(TensorJson.output(output));
      }
    }
    return binaries.isEmpty() ? json(200, response) : BinaryTensors.reply(response, binaries);
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
