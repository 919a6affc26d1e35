package io.seldon.serve;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.seldon.protos.v2.GRPCInferenceServiceGrpc;
import io.seldon.protos.v2.OpenInferenceProtos.InferParameter;
import io.seldon.protos.v2.OpenInferenceProtos.InferTensorContents;
import io.seldon.protos.v2.OpenInferenceProtos.ModelInferRequest;
import io.seldon.protos.v2.OpenInferenceProtos.ModelInferResponse;
import io.seldon.protos.v2.OpenInferenceProtos.ModelMetadataRequest;
import io.seldon.protos.v2.OpenInferenceProtos.ModelMetadataResponse;
import io.seldon.protos.v2.OpenInferenceProtos.ModelReadyRequest;
import io.seldon.protos.v2.OpenInferenceProtos.ModelReadyResponse;
import io.seldon.protos.v2.OpenInferenceProtos.ServerLiveRequest;
import io.seldon.protos.v2.OpenInferenceProtos.ServerLiveResponse;
import io.seldon.protos.v2.OpenInferenceProtos.ServerMetadataRequest;
import io.seldon.protos.v2.OpenInferenceProtos.ServerMetadataResponse;
import io.seldon.protos.v2.OpenInferenceProtos.ServerReadyRequest;
import io.seldon.protos.v2.OpenInferenceProtos.ServerReadyResponse;
import io.seldon.serve.TypedTensor.Datatype;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The Open Inference Protocol ("v2": KServe, Seldon Core 2, MLServer, Triton) over the same
 * Microservice as the Seldon protocol, so a model's code does not change.
 *
 * <p>One input tensor reaches the model as its payload ({@link Payload#tensor()}, datatype and
 * shape kept); several inputs of one column each ([n] or [n, 1]) are its columns, named by the
 * inputs. The model's answer is one output tensor, {@value #OUTPUT_NAME}.
 */
final class OpenInference {
  static final String OUTPUT_NAME = "output-0";
  static final String SERVER_NAME = "seldon-serve";
  private static final Gson GSON = new Gson();
  private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
  private static final BigDecimal LONG_MAX = BigDecimal.valueOf(Long.MAX_VALUE);

  private final Microservice service;
  private final String serverVersion;
  private final String name;
  private final List<String> versions;

  OpenInference(Microservice service, String serverVersion) {
    this.service = service;
    this.serverVersion = serverVersion;
    this.name = String.valueOf(service.metadata().get("name"));
    List<String> listed = new ArrayList<>();
    if (service.metadata().get("versions") instanceof List<?> values) {
      values.forEach(v -> listed.add(String.valueOf(v)));
    }
    this.versions = List.copyOf(listed);
  }

  /** No such model, version or endpoint: HTTP 404, gRPC NOT_FOUND. */
  static SeldonException notFound(String message) {
    return new SeldonException(message, 404);
  }

  void checkModel(String model, String version) {
    if (!model.equals(name)) {
      throw notFound("no model '" + model + "': this server serves '" + name + "'");
    }
    if (version != null && !version.isEmpty() && !versions.contains(version)) {
      throw notFound("model '" + model + "' has no version '" + version + "' ("
          + (versions.isEmpty() ? "no versions" : String.join(", ", versions)) + ")");
    }
  }

  boolean ready() {
    try {
      service.healthStatus();
      return true;
    } catch (SeldonException e) {
      return false;
    }
  }

  // ---- the model call ----------------------------------------------------------------------

  record Input(String name, TypedTensor tensor) {}

  record Output(TypedTensor tensor, Map<String, String> parameters) {}

  Output infer(String model, String version, List<Input> inputs, List<String> requested) {
    checkModel(model, version);
    for (String output : requested) {
      if (!output.equals(OUTPUT_NAME)) {
        throw SeldonException.badData("no output '" + output + "': this model answers one output, '"
            + OUTPUT_NAME + "'");
      }
    }
    return output(service.infer(features(inputs)));
  }

  /** The payload a model receives for a request's inputs. */
  static Payload features(List<Input> inputs) {
    if (inputs.isEmpty()) {
      throw SeldonException.badData("a request needs at least one input");
    }
    if (inputs.size() == 1) {
      return Payload.fromTensor(inputs.get(0).tensor(), List.of());
    }
    long rows = inputs.get(0).tensor().shape().length == 0 ? -1 : inputs.get(0).tensor().shape()[0];
    Datatype common = inputs.get(0).tensor().datatype();
    List<String> names = new ArrayList<>();
    for (Input input : inputs) {
      long[] shape = input.tensor().shape();
      boolean column = (shape.length == 1 || (shape.length == 2 && shape[1] == 1)) && shape[0] == rows;
      if (!column) {
        throw SeldonException.badData("several inputs must each be one column ([n] or [n, 1]) of the same"
            + " length; got " + describe(inputs));
      }
      common = input.tensor().datatype() == common ? common : Datatype.FP64;
      names.add(input.name());
    }
    return Payload.fromTensor(stack(inputs, common, (int) rows), names);
  }

  private static String describe(List<Input> inputs) {
    return String.join(", ", inputs.stream().map(i -> i.name() + " " + Arrays.toString(i.tensor().shape())).toList());
  }

  /** Columns side by side: one datatype kept, or mixed numbers as FP64. */
  private static TypedTensor stack(List<Input> inputs, Datatype datatype, int rows) {
    int columns = inputs.size();
    long[] shape = {rows, columns};
    Object data = switch (datatype.kind) {
      case BOOLEAN -> new boolean[rows * columns];
      case INTEGER -> new long[rows * columns];
      case FLOAT -> new float[rows * columns];
      case DOUBLE -> new double[rows * columns];
      case BYTES -> new byte[rows * columns][];
    };
    for (int c = 0; c < columns; c++) {
      TypedTensor column = inputs.get(c).tensor();
      Object values = column.datatype() == datatype ? column.data() : column.doubles();
      for (int r = 0; r < rows; r++) {
        java.lang.reflect.Array.set(data, r * columns + c, java.lang.reflect.Array.get(values, r));
      }
    }
    return TypedTensor.of(datatype, shape, data);
  }

  /** What a model answered, as the output tensor. */
  static Output output(Payload result) {
    return switch (result.kind()) {
      case TYPED_TENSOR -> new Output(result.tensor(), Map.of());
      case STRING -> new Output(TypedTensor.strings(new long[] {1}, result.string()), Map.of());
      case BYTES -> new Output(TypedTensor.of(Datatype.BYTES, new long[] {1}, new byte[][] {result.bytes()}), Map.of());
      case JSON -> new Output(TypedTensor.strings(new long[] {1}, JsonOut.plain(result.json())),
          Map.of("content_type", "application/json"));
      default -> {
        if (result.isNumeric()) {
          yield new Output(result.tensor(), Map.of());
        }
        throw SeldonException.internal("the model answered " + Payload.describe(result.kind())
            + " that is not a block of numbers, which no Open Inference Protocol datatype holds");
      }
    };
  }

  // ---- REST ----------------------------------------------------------------------------------

  /** allow: the Allow header of a 405, else null. */
  record RestAnswer(int status, String json, String allow) {
    RestAnswer(int status, String json) {
      this(status, json, null);
    }
  }

  /** One /v2 request: its HTTP status and JSON body (errors are {"error": "..."}). */
  RestAnswer rest(String method, String path, Supplier<JsonElement> body) {
    try {
      return route(method, path, body);
    } catch (SeldonException e) {
      String allow = e instanceof SeldonException.MethodNotAllowed refused ? refused.allow() : null;
      return new RestAnswer(e.status(), error(e.getMessage()), allow);
    } catch (RuntimeException e) { // a wrapper bug still answers the protocol's error body
      Log.error("unexpected error serving " + path + ": " + Log.stackTrace(e));
      return new RestAnswer(500, error(UserCode.describe(e)));
    }
  }

  static String error(String message) {
    JsonObject body = new JsonObject();
    body.addProperty("error", message);
    return GSON.toJson(body);
  }

  private RestAnswer route(String method, String path, Supplier<JsonElement> body) {
    List<String> parts = new ArrayList<>(Arrays.stream(path.split("/")).filter(p -> !p.isEmpty()).toList());
    parts.remove(0); // "v2"
    if (parts.isEmpty()) {
      return get(method, serverMetadata(), 200);
    }
    if (parts.size() == 2 && parts.get(0).equals("health") && (parts.get(1).equals("live")
        || parts.get(1).equals("ready"))) {
      boolean up = parts.get(1).equals("live") || ready();
      return get(method, single(parts.get(1), up), up ? 200 : 503);
    }
    if (parts.size() < 2 || !parts.get(0).equals("models")) {
      throw notFound("no endpoint " + path);
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
      checkModel(model, version);
      boolean up = ready();
      JsonObject answer = single("ready", up);
      answer.addProperty("name", model);
      return get(method, answer, up ? 200 : 503);
    }
    if (rest.equals(List.of("infer"))) {
      if (!method.equals("POST")) {
        throw SeldonException.methodNotAllowed(method, "POST");
      }
      checkModel(model, version);
      return new RestAnswer(200, GSON.toJson(inferJson(model, version, body.get())));
    }
    throw notFound("no endpoint " + path);
  }

  private static RestAnswer get(String method, JsonObject answer, int status) {
    if (!method.equals("GET") && !method.equals("HEAD")) {
      throw SeldonException.methodNotAllowed(method, "GET", "HEAD");
    }
    return new RestAnswer(status, GSON.toJson(answer));
  }

  private static JsonObject single(String name, boolean value) {
    JsonObject object = new JsonObject();
    object.addProperty(name, value);
    return object;
  }

  JsonObject serverMetadata() {
    JsonObject metadata = new JsonObject();
    metadata.addProperty("name", SERVER_NAME);
    metadata.addProperty("version", serverVersion);
    metadata.add("extensions", new JsonArray());
    return metadata;
  }

  JsonObject modelMetadata(String model, String version) {
    checkModel(model, version);
    JsonObject metadata = new JsonObject();
    metadata.addProperty("name", name);
    metadata.add("versions", GSON.toJsonTree(versions));
    metadata.addProperty("platform", String.valueOf(service.metadata().get("platform")));
    for (String key : List.of("inputs", "outputs")) {
      JsonArray tensors = new JsonArray();
      for (Map<String, Object> tensor : tensorMetadata(key)) {
        tensors.add(GSON.toJsonTree(tensor));
      }
      metadata.add(key, tensors);
    }
    return metadata;
  }

  /** The model's inputs or outputs metadata that is in v2's form: name, datatype, shape. */
  List<Map<String, Object>> tensorMetadata(String key) {
    List<Map<String, Object>> tensors = new ArrayList<>();
    if (service.metadata().get(key) instanceof List<?> items) {
      for (Object item : items) {
        if (item instanceof Map<?, ?> tensor && tensor.get("name") instanceof String tensorName
            && tensor.get("datatype") instanceof String datatype && isDatatype(datatype)) {
          List<Long> shape = new ArrayList<>();
          if (tensor.get("shape") instanceof List<?> dims) {
            dims.forEach(d -> shape.add(((Number) d).longValue()));
          }
          tensors.add(Map.of("name", tensorName, "datatype", datatype, "shape", shape));
        }
      }
    }
    return tensors;
  }

  private static boolean isDatatype(String name) {
    return Arrays.stream(Datatype.values()).anyMatch(d -> d.name().equals(name));
  }

  JsonObject inferJson(String model, String version, JsonElement body) {
    checkModel(model, version); // a request to another model is a 404, whatever it holds
    JsonObject request = JsonIn.object(body, "an inference request");
    if (!(request.get("inputs") instanceof JsonArray inputs)) {
      throw SeldonException.badData("an inference request needs inputs: a list of tensors");
    }
    List<Input> decoded = new ArrayList<>();
    for (JsonElement input : inputs) {
      decoded.add(inputFromJson(input));
    }
    List<String> requested = new ArrayList<>();
    if (request.has("outputs")) {
      if (!(request.get("outputs") instanceof JsonArray outputs)) {
        throw SeldonException.badData("outputs must be a list of objects with a name");
      }
      for (JsonElement output : outputs) {
        if (!(output instanceof JsonObject object) || !(object.get("name") instanceof JsonPrimitive outputName)) {
          throw SeldonException.badData("outputs must be a list of objects with a name");
        }
        requested.add(outputName.getAsString());
      }
    }
    Output output = infer(model, version, decoded, requested);
    JsonObject response = new JsonObject();
    response.addProperty("model_name", name);
    if (!versions.isEmpty()) {
      response.addProperty("model_version", version != null ? version : versions.get(0));
    }
    if (request.get("id") instanceof JsonPrimitive id && id.isString()) {
      response.addProperty("id", id.getAsString());
    }
    JsonArray outputs = new JsonArray();
    outputs.add(outputToJson(output));
    response.add("outputs", outputs);
    return response;
  }

  static Input inputFromJson(JsonElement element) {
    if (!(element instanceof JsonObject tensor)) {
      throw SeldonException.badData("each input must be an object with name, shape, datatype and data");
    }
    if (!(tensor.get("name") instanceof JsonPrimitive nameValue) || !nameValue.isString()
        || nameValue.getAsString().isEmpty()) {
      throw SeldonException.badData("each input needs a name");
    }
    String inputName = nameValue.getAsString();
    JsonElement datatypeValue = tensor.get("datatype");
    Datatype datatype = Datatype.named(datatypeValue instanceof JsonPrimitive p && p.isString()
        ? p.getAsString() : null, inputName);
    long[] shape = shapeFromJson(inputName, tensor.get("shape"));
    if (!tensor.has("data")) {
      throw SeldonException.badData("input '" + inputName + "' has no data (the binary tensor extension is not"
          + " supported)");
    }
    List<JsonElement> flat = new ArrayList<>();
    flatten(inputName, tensor.get("data"), flat);
    try {
      return new Input(inputName, TypedTensor.of(datatype, shape, elements(inputName, datatype, flat)));
    } catch (SeldonException e) {
      throw SeldonException.badData("input '" + inputName + "': " + e.getMessage());
    }
  }

  private static long[] shapeFromJson(String input, JsonElement value) {
    if (value instanceof JsonArray dims) {
      long[] shape = new long[dims.size()];
      for (int i = 0; i < shape.length; i++) {
        if (!(dims.get(i) instanceof JsonPrimitive dim) || !dim.isNumber() || !integral(dim.getAsBigDecimal())
            || dim.getAsBigDecimal().signum() < 0 || dim.getAsBigDecimal().compareTo(LONG_MAX) > 0) {
          shape = null;
          break;
        }
        shape[i] = dim.getAsBigDecimal().longValueExact();
      }
      if (shape != null) {
        return shape;
      }
    }
    throw SeldonException.badData("input '" + input + "': shape must be a list of non-negative integers, got "
        + value);
  }

  /** Nested arrays must be regular (every sibling the same length); elements land row-major. */
  private static void flatten(String input, JsonElement data, List<JsonElement> out) {
    if (!(data instanceof JsonArray array)) {
      out.add(data);
      return;
    }
    int width = -1;
    for (JsonElement item : array) {
      int length = item instanceof JsonArray inner ? inner.size() : -1;
      if (width != -1 && length != width) {
        throw SeldonException.badData("input '" + input + "': data is not a regular array");
      }
      width = length;
      flatten(input, item, out);
    }
  }

  private static Object elements(String input, Datatype datatype, List<JsonElement> flat) {
    int n = flat.size();
    switch (datatype.kind) {
      case BOOLEAN -> {
        boolean[] values = new boolean[n];
        for (int i = 0; i < n; i++) {
          if (!(flat.get(i) instanceof JsonPrimitive p) || !p.isBoolean()) {
            throw SeldonException.badData("BOOL data must be true/false");
          }
          values[i] = p.getAsBoolean();
        }
        return values;
      }
      case BYTES -> {
        byte[][] values = new byte[n][];
        for (int i = 0; i < n; i++) {
          if (!(flat.get(i) instanceof JsonPrimitive p) || !p.isString()) {
            throw SeldonException.badData("BYTES data must be strings");
          }
          values[i] = p.getAsString().getBytes(StandardCharsets.UTF_8);
        }
        return values;
      }
      case INTEGER -> {
        long[] values = new long[n];
        for (int i = 0; i < n; i++) {
          values[i] = integer(datatype, number(flat.get(i), datatype, "integers"));
        }
        return values;
      }
      case FLOAT -> {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
          values[i] = number(flat.get(i), datatype, "numbers").floatValue();
        }
        return values;
      }
      default -> {
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
          values[i] = number(flat.get(i), datatype, "numbers").doubleValue();
        }
        return values;
      }
    }
  }

  private static BigDecimal number(JsonElement element, Datatype datatype, String what) {
    if (!(element instanceof JsonPrimitive p) || !p.isNumber()) {
      throw SeldonException.badData(datatype + " data must be " + what);
    }
    BigDecimal value = p.getAsBigDecimal();
    if (what.equals("integers") && !integral(value)) {
      throw SeldonException.badData(datatype + " data must be integers");
    }
    return value;
  }

  private static boolean integral(BigDecimal value) {
    return value.signum() == 0 || value.scale() <= 0 || value.stripTrailingZeros().scale() <= 0;
  }

  /** A JSON integer in the datatype's range, as the long that holds it (UINT64: its bits). */
  private static long integer(Datatype datatype, BigDecimal value) {
    BigInteger whole = value.toBigIntegerExact();
    BigInteger min = datatype == Datatype.UINT64 ? BigInteger.ZERO : BigInteger.valueOf(datatype.min);
    BigInteger max = datatype == Datatype.UINT64 ? UINT64_MAX : BigInteger.valueOf(datatype.max);
    if (whole.compareTo(min) < 0 || whole.compareTo(max) > 0) {
      throw SeldonException.badData("a value (" + whole + ") is outside " + datatype + "'s range [" + min + ", "
          + max + "]");
    }
    return whole.longValue();
  }

  static JsonObject outputToJson(Output output) {
    TypedTensor tensor = output.tensor();
    JsonObject json = new JsonObject();
    json.addProperty("name", OUTPUT_NAME);
    json.addProperty("datatype", tensor.datatype().name());
    json.add("shape", GSON.toJsonTree(tensor.shape()));
    JsonArray data = new JsonArray();
    Object values = tensor.data();
    switch (tensor.datatype().kind) {
      case BOOLEAN -> {
        for (boolean value : (boolean[]) values) {
          data.add(value);
        }
      }
      case INTEGER -> {
        for (long value : (long[]) values) {
          data.add(tensor.datatype() == Datatype.UINT64 ? new BigInteger(Long.toUnsignedString(value)) : value);
        }
      }
      case FLOAT -> {
        for (float value : (float[]) values) {
          data.add(new BigDecimal(Float.toString(value)));
        }
      }
      case DOUBLE -> {
        for (double value : (double[]) values) {
          data.add(value);
        }
      }
      case BYTES -> {
        for (String value : tensor.strings()) {
          data.add(value);
        }
      }
    }
    json.add("data", data);
    if (!output.parameters().isEmpty()) {
      json.add("parameters", GSON.toJsonTree(output.parameters()));
    }
    return json;
  }

  // ---- gRPC ----------------------------------------------------------------------------------

  /** inference.GRPCInferenceService over the same model. */
  final class GrpcService implements GRPCInferenceServiceGrpc.AsyncService {
    @Override
    public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> out) {
      answer(out, () -> ServerLiveResponse.newBuilder().setLive(true).build());
    }

    @Override
    public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> out) {
      answer(out, () -> ServerReadyResponse.newBuilder().setReady(ready()).build());
    }

    @Override
    public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> out) {
      answer(out, () -> {
        checkModel(request.getName(), request.getVersion());
        return ModelReadyResponse.newBuilder().setReady(ready()).build();
      });
    }

    @Override
    public void serverMetadata(ServerMetadataRequest request, StreamObserver<ServerMetadataResponse> out) {
      answer(out, () -> ServerMetadataResponse.newBuilder().setName(SERVER_NAME).setVersion(serverVersion).build());
    }

    @Override
    public void modelMetadata(ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> out) {
      answer(out, () -> {
        checkModel(request.getName(), request.getVersion());
        ModelMetadataResponse.Builder response = ModelMetadataResponse.newBuilder()
            .setName(name)
            .addAllVersions(versions)
            .setPlatform(String.valueOf(service.metadata().get("platform")));
        for (Map<String, Object> tensor : tensorMetadata("inputs")) {
          response.addInputs(tensorMetadata(tensor));
        }
        for (Map<String, Object> tensor : tensorMetadata("outputs")) {
          response.addOutputs(tensorMetadata(tensor));
        }
        return response.build();
      });
    }

    @Override
    public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> out) {
      answer(out, () -> inferProto(request));
    }
  }

  private static ModelMetadataResponse.TensorMetadata tensorMetadata(Map<String, Object> tensor) {
    ModelMetadataResponse.TensorMetadata.Builder metadata = ModelMetadataResponse.TensorMetadata.newBuilder()
        .setName((String) tensor.get("name"))
        .setDatatype((String) tensor.get("datatype"));
    for (Object dim : (List<?>) tensor.get("shape")) {
      metadata.addShape((Long) dim);
    }
    return metadata.build();
  }

  /** Seldon's statuses, but an unknown model or version is NOT_FOUND (not UNIMPLEMENTED). */
  private static <T> void answer(StreamObserver<T> out, Supplier<T> call) {
    GrpcServer.answer(out, call, e -> e.status() == 404 ? Status.Code.NOT_FOUND : GrpcServer.code(e.status()));
  }

  ModelInferResponse inferProto(ModelInferRequest request) {
    checkModel(request.getModelName(), request.getModelVersion());
    int raws = request.getRawInputContentsCount();
    if (raws > 0 && raws != request.getInputsCount()) {
      throw SeldonException.badData("raw_input_contents has " + raws + " entries for " + request.getInputsCount()
          + " inputs");
    }
    List<Input> inputs = new ArrayList<>();
    for (int i = 0; i < request.getInputsCount(); i++) {
      inputs.add(inputFromProto(request.getInputs(i), raws > 0 ? request.getRawInputContents(i) : null));
    }
    List<String> requested = request.getOutputsList().stream().map(o -> o.getName()).toList();
    Output output = infer(request.getModelName(), request.getModelVersion(), inputs, requested);
    ModelInferResponse.Builder response = ModelInferResponse.newBuilder()
        .setModelName(name)
        .setId(request.getId());
    if (!versions.isEmpty()) {
      response.setModelVersion(request.getModelVersion().isEmpty() ? versions.get(0) : request.getModelVersion());
    }
    TypedTensor tensor = output.tensor();
    ModelInferResponse.InferOutputTensor.Builder out = response.addOutputsBuilder()
        .setName(OUTPUT_NAME)
        .setDatatype(tensor.datatype().name());
    for (long dim : tensor.shape()) {
      out.addShape(dim);
    }
    output.parameters().forEach((k, v) -> out.putParameters(k, InferParameter.newBuilder().setStringParam(v).build()));
    // FP16 has no contents field; a client that sent raw contents is answered raw too
    if (raws > 0 || tensor.datatype() == Datatype.FP16) {
      response.addRawOutputContents(Raw.pack(tensor));
    } else {
      out.setContents(contents(tensor));
    }
    return response.build();
  }

  static Input inputFromProto(ModelInferRequest.InferInputTensor input, ByteString raw) {
    String inputName = input.getName();
    Datatype datatype = Datatype.named(input.getDatatype(), inputName);
    long[] shape = input.getShapeList().stream().mapToLong(Long::longValue).toArray();
    try {
      Object data = raw != null ? Raw.unpack(datatype, raw) : fromContents(datatype, input.getContents());
      return new Input(inputName, TypedTensor.of(datatype, shape, data));
    } catch (SeldonException e) {
      throw SeldonException.badData("input '" + inputName + "': " + e.getMessage());
    }
  }

  private static Object fromContents(Datatype datatype, InferTensorContents contents) {
    return switch (datatype) {
      case BOOL -> {
        boolean[] values = new boolean[contents.getBoolContentsCount()];
        for (int i = 0; i < values.length; i++) {
          values[i] = contents.getBoolContents(i);
        }
        yield values;
      }
      case INT8, INT16, INT32 -> contents.getIntContentsList().stream().mapToLong(Integer::longValue).toArray();
      case INT64 -> contents.getInt64ContentsList().stream().mapToLong(Long::longValue).toArray();
      case UINT8, UINT16, UINT32 -> contents.getUintContentsList().stream()
          .mapToLong(Integer::toUnsignedLong).toArray();
      case UINT64 -> contents.getUint64ContentsList().stream().mapToLong(Long::longValue).toArray();
      case FP32 -> {
        float[] values = new float[contents.getFp32ContentsCount()];
        for (int i = 0; i < values.length; i++) {
          values[i] = contents.getFp32Contents(i);
        }
        yield values;
      }
      case FP64 -> contents.getFp64ContentsList().stream().mapToDouble(Double::doubleValue).toArray();
      case BYTES -> contents.getBytesContentsList().stream().map(ByteString::toByteArray).toArray(byte[][]::new);
      case FP16 -> throw SeldonException.badData("FP16 elements travel in raw_input_contents only");
    };
  }

  private static InferTensorContents contents(TypedTensor tensor) {
    InferTensorContents.Builder contents = InferTensorContents.newBuilder();
    Object data = tensor.data();
    switch (tensor.datatype()) {
      case BOOL -> {
        for (boolean value : (boolean[]) data) {
          contents.addBoolContents(value);
        }
      }
      case INT8, INT16, INT32 -> Arrays.stream((long[]) data).forEach(v -> contents.addIntContents((int) v));
      case INT64 -> Arrays.stream((long[]) data).forEach(contents::addInt64Contents);
      case UINT8, UINT16, UINT32 -> Arrays.stream((long[]) data).forEach(v -> contents.addUintContents((int) v));
      case UINT64 -> Arrays.stream((long[]) data).forEach(contents::addUint64Contents);
      case FP32 -> {
        for (float value : (float[]) data) {
          contents.addFp32Contents(value);
        }
      }
      case FP64 -> Arrays.stream((double[]) data).forEach(contents::addFp64Contents);
      case BYTES -> Arrays.stream((byte[][]) data).forEach(b -> contents.addBytesContents(ByteString.copyFrom(b)));
      case FP16 -> throw new IllegalStateException("FP16 is answered in raw contents");
    }
    return contents.build();
  }

  /** Raw contents: elements little-endian; BYTES elements each after a 4-byte length. */
  static final class Raw {
    private Raw() {}

    static Object unpack(Datatype datatype, ByteString raw) {
      ByteBuffer buffer = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      if (datatype == Datatype.BYTES) {
        List<byte[]> elements = new ArrayList<>();
        while (buffer.hasRemaining()) {
          if (buffer.remaining() < 4) {
            throw SeldonException.badData("raw BYTES contents end inside a length prefix");
          }
          int length = buffer.getInt();
          if (length < 0 || length > buffer.remaining()) {
            throw SeldonException.badData("a raw BYTES element runs past the end of the contents");
          }
          byte[] element = new byte[length];
          buffer.get(element);
          elements.add(element);
        }
        return elements.toArray(byte[][]::new);
      }
      if (raw.size() % datatype.bytes != 0) {
        throw SeldonException.badData("raw contents of " + raw.size() + " bytes are not whole " + datatype
            + " elements");
      }
      int n = raw.size() / datatype.bytes;
      return switch (datatype.kind) {
        case BOOLEAN -> {
          boolean[] values = new boolean[n];
          for (int i = 0; i < n; i++) {
            values[i] = buffer.get() != 0;
          }
          yield values;
        }
        case INTEGER -> {
          long[] values = new long[n];
          for (int i = 0; i < n; i++) {
            values[i] = switch (datatype) {
              case INT8 -> buffer.get();
              case UINT8 -> Byte.toUnsignedLong(buffer.get());
              case INT16 -> buffer.getShort();
              case UINT16 -> Short.toUnsignedLong(buffer.getShort());
              case INT32 -> buffer.getInt();
              case UINT32 -> Integer.toUnsignedLong(buffer.getInt());
              default -> buffer.getLong();
            };
          }
          yield values;
        }
        case FLOAT -> {
          float[] values = new float[n];
          for (int i = 0; i < n; i++) {
            values[i] = datatype == Datatype.FP16 ? Half.toFloat(buffer.getShort()) : buffer.getFloat();
          }
          yield values;
        }
        default -> {
          double[] values = new double[n];
          for (int i = 0; i < n; i++) {
            values[i] = buffer.getDouble();
          }
          yield values;
        }
      };
    }

    static ByteString pack(TypedTensor tensor) {
      Datatype datatype = tensor.datatype();
      Object data = tensor.data();
      if (datatype == Datatype.BYTES) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] element : (byte[][]) data) {
          out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(element.length).array());
          out.writeBytes(element);
        }
        return ByteString.copyFrom(out.toByteArray());
      }
      int n = java.lang.reflect.Array.getLength(data);
      ByteBuffer buffer = ByteBuffer.allocate(n * datatype.bytes).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < n; i++) {
        switch (datatype) {
          case BOOL -> buffer.put((byte) (((boolean[]) data)[i] ? 1 : 0));
          case INT8, UINT8 -> buffer.put((byte) ((long[]) data)[i]);
          case INT16, UINT16 -> buffer.putShort((short) ((long[]) data)[i]);
          case INT32, UINT32 -> buffer.putInt((int) ((long[]) data)[i]);
          case INT64, UINT64 -> buffer.putLong(((long[]) data)[i]);
          case FP16 -> buffer.putShort(Half.fromFloat(((float[]) data)[i]));
          case FP32 -> buffer.putFloat(((float[]) data)[i]);
          default -> buffer.putDouble(((double[]) data)[i]);
        }
      }
      return ByteString.copyFrom(buffer.array());
    }
  }

  /** IEEE 754 half precision (Java 17 has no Float.float16ToFloat). */
  static final class Half {
    private Half() {}

    static float toFloat(short half) {
      int bits = half & 0xffff;
      int sign = (bits & 0x8000) << 16;
      int exponent = (bits >>> 10) & 0x1f;
      int mantissa = bits & 0x3ff;
      if (exponent == 0x1f) { // infinity or NaN
        return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
      }
      if (exponent == 0) { // zero or subnormal: mantissa * 2^-24
        float value = mantissa * 0x1p-24f;
        return sign != 0 ? -value : value;
      }
      return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    /** Rounds to the nearest half, ties to even. */
    static short fromFloat(float value) {
      int bits = Float.floatToIntBits(value);
      int sign = (bits >>> 16) & 0x8000;
      int exponent = (bits >>> 23) & 0xff;
      int mantissa = bits & 0x7fffff;
      if (exponent == 0xff) { // infinity or NaN
        return (short) (sign | 0x7c00 | (mantissa != 0 ? 0x200 : 0));
      }
      int halfExponent = exponent - 112;
      if (halfExponent >= 0x1f) { // too large: infinity
        return (short) (sign | 0x7c00);
      }
      if (halfExponent <= 0) { // subnormal or zero
        if (halfExponent < -10) {
          return (short) sign;
        }
        int full = mantissa | 0x800000;
        int shift = 14 - halfExponent;
        int half = full >> shift;
        int rest = full & ((1 << shift) - 1);
        int midpoint = 1 << (shift - 1);
        if (rest > midpoint || (rest == midpoint && (half & 1) == 1)) {
          half++;
        }
        return (short) (sign | half);
      }
      int half = (halfExponent << 10) | (mantissa >> 13);
      int rest = mantissa & 0x1fff;
      if (rest > 0x1000 || (rest == 0x1000 && (half & 1) == 1)) {
        half++; // may carry into the exponent, which is right (up to infinity)
      }
      return (short) (sign | half);
    }
  }
}
