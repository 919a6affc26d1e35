package io.seldon.serve.v2;

import io.grpc.BindableService;
import io.seldon.serve.Json;
import io.seldon.serve.Payload;
import io.seldon.serve.RestProtocol;
import io.seldon.serve.SeldonException;
import io.seldon.serve.ServedModel;
import io.seldon.serve.TypedTensor;
import io.seldon.serve.TypedTensor.Datatype;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The Open Inference Protocol ("v2": KServe, Seldon Core 2, MLServer, Triton) over the same
 * model as the Seldon protocol, so a model's code does not change. This is its dataplane:
 * readiness, metadata and inference; Main hands {@link #rest()} to the REST server and
 * {@link #grpc()} to the gRPC server.
 *
 * <p>One input tensor reaches the model as its payload ({@link Payload#tensor()}, datatype and
 * shape kept); several inputs of one column each ([n] or [n, 1]) are its columns, named by the
 * inputs. The model's answer is one output tensor, named as the model's metadata names its first
 * output, else {@value #OUTPUT_NAME}.
 *
 * <p>The package by concern: V2Rest and V2Grpc, the transports; TensorJson, tensors in REST's
 * JSON, and BinaryTensors, REST's binary tensor extension; TensorContents and RawContents (with
 * Half, for FP16), tensors in gRPC's typed and raw contents (the latter also the binary
 * extension's form).
 */
public final class OpenInference {
  static final String OUTPUT_NAME = "output-0";
  static final String SERVER_NAME = "seldon-serve";
  /** The protocol's extensions served, as both transports' server metadata lists them. */
  static final List<String> EXTENSIONS = List.of(BinaryTensors.EXTENSION);

  private final ServedModel served;
  private final String serverVersion;
  private final String name;
  private final List<String> versions;
  private final List<String> outputNames; // the metadata's outputs, else OUTPUT_NAME

  public OpenInference(ServedModel served, String serverVersion) {
    this.served = served;
    this.serverVersion = serverVersion;
    this.name = served.openInferenceName();
    List<String> listed = new ArrayList<>();
    if (served.metadata().get("versions") instanceof List<?> values) {
      values.forEach(v -> listed.add(String.valueOf(v)));
    }
    this.versions = List.copyOf(listed);
    List<String> declared = tensorMetadata("outputs").stream().map(TensorMetadata::name).toList();
    this.outputNames = declared.isEmpty() ? List.of(OUTPUT_NAME) : declared;
  }

  /** The /v2 paths, for the REST server. */
  public RestProtocol rest() {
    return new V2Rest(this);
  }

  /** inference.GRPCInferenceService, for the gRPC server. */
  public BindableService grpc() {
    return new V2Grpc(this);
  }

  // ---- what the endpoints answer -------------------------------------------------------------

  String name() {
    return name;
  }

  List<String> versions() {
    return versions;
  }

  String serverVersion() {
    return serverVersion;
  }

  String platform() {
    return String.valueOf(served.metadata().get("platform"));
  }

  /** The version an answer names: the one asked for, else the model's first; null when it has none. */
  String answeredVersion(String asked) {
    if (versions.isEmpty()) {
      return null;
    }
    return asked == null || asked.isEmpty() ? versions.get(0) : asked;
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
    return served.ready();
  }

  /** An input or output of the model's metadata, in v2's form. */
  record TensorMetadata(String name, String datatype, List<Long> shape) {}

  /** The model's inputs or outputs (`key`) that its metadata gives in v2's form: name, datatype, shape. */
  List<TensorMetadata> tensorMetadata(String key) {
    List<TensorMetadata> tensors = new ArrayList<>();
    if (served.metadata().get(key) instanceof List<?> items) {
      for (Object item : items) {
        if (item instanceof Map<?, ?> tensor && tensor.get("name") instanceof String tensorName
            && tensor.get("datatype") instanceof String datatype && isDatatype(datatype)) {
          List<Long> shape = new ArrayList<>();
          if (tensor.get("shape") instanceof List<?> dims) {
            dims.forEach(d -> shape.add(((Number) d).longValue()));
          }
          tensors.add(new TensorMetadata(tensorName, datatype, shape));
        }
      }
    }
    return tensors;
  }

  private static boolean isDatatype(String name) {
    return Arrays.stream(Datatype.values()).anyMatch(d -> d.name().equals(name));
  }

  /** The datatype of this name, or a 400 naming the input. */
  static Datatype datatype(String name, String input) {
    try {
      return Datatype.valueOf(name);
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new SeldonException("input '" + input + "': datatype " + (name == null ? "null" : "'" + name + "'")
          + " is not one of " + Arrays.toString(Datatype.values()));
    }
  }

  // ---- the model call ----------------------------------------------------------------------

  record Input(String name, TypedTensor tensor) {}

  record Output(String name, TypedTensor tensor, Map<String, String> parameters) {}

  /** The answer's outputs: those `requested` by name, else all the model gives (one, here). */
  List<Output> infer(String model, String version, List<Input> inputs, List<String> requested) {
    checkModel(model, version);
    for (String output : requested) {
      if (!outputNames.contains(output)) {
        throw new SeldonException("no output '" + output + "': this model answers '"
            + String.join("', '", outputNames) + "'");
      }
    }
    Output answer = output(outputNames.get(0), served.infer(features(inputs)));
    return requested.isEmpty() || requested.contains(answer.name()) ? List.of(answer) : List.of();
  }

  /** The child a router sends a request to, as Seldon's executor asks it in a v2 graph. */
  long route(String model, String version, List<Input> inputs) {
    checkModel(model, version);
    Payload branch = served.route(features(inputs));
    if (!branch.isNumeric() || branch.values().length != 1) {
      throw new SeldonException("route answered " + Payload.describe(branch.kind())
          + ", not one child (an int)", 500);
    }
    return (long) branch.values()[0];
  }

  /** A combiner's answer to its children's (each its inputs), as Seldon's executor asks it in a v2 graph. */
  List<Output> aggregate(String model, String version, List<List<Input>> children) {
    checkModel(model, version);
    return List.of(output(outputNames.get(0), served.aggregate(children.stream().map(OpenInference::features).toList())));
  }

  /** The payload a model receives for a request's inputs. */
  static Payload features(List<Input> inputs) {
    if (inputs.isEmpty()) {
      throw new SeldonException("a request needs at least one input");
    }
    if (inputs.size() == 1) {
      return Payload.of(inputs.get(0).tensor());
    }
    long rows = inputs.get(0).tensor().shape().length == 0 ? -1 : inputs.get(0).tensor().shape()[0];
    Datatype common = inputs.get(0).tensor().datatype();
    List<String> names = new ArrayList<>();
    for (Input input : inputs) {
      long[] shape = input.tensor().shape();
      boolean column = (shape.length == 1 || (shape.length == 2 && shape[1] == 1)) && shape[0] == rows;
      if (!column) {
        throw new SeldonException("several inputs must each be one column ([n] or [n, 1]) of the same length;"
            + " got " + describe(inputs));
      }
      common = input.tensor().datatype() == common ? common : Datatype.FP64;
      names.add(input.name());
    }
    return Payload.of(stack(inputs, common, (int) rows)).withNames(names);
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

  /** What a model answered, as the output tensor of this name. */
  static Output output(String name, Payload result) {
    return switch (result.kind()) {
      case TYPED_TENSOR -> new Output(name, result.tensor(), Map.of());
      case STRING -> new Output(name, TypedTensor.strings(new long[] {1}, result.string()), Map.of());
      case BYTES -> new Output(name, TypedTensor.of(Datatype.BYTES, new long[] {1}, new byte[][] {result.bytes()}),
          Map.of());
      case JSON -> new Output(name, TypedTensor.strings(new long[] {1}, Json.plain(result.json())),
          Map.of("content_type", "application/json"));
      default -> {
        if (result.isNumeric()) {
          yield new Output(name, result.tensor(), Map.of());
        }
        throw new SeldonException("the model answered " + Payload.describe(result.kind())
            + " that is not a block of numbers, which no Open Inference Protocol datatype holds", 500);
      }
    };
  }
}
