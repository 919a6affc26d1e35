package io.seldon.serve.v2;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.seldon.protos.v2.GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase;
import io.seldon.protos.v2.OpenInferenceProtos.InferParameter;
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
import io.seldon.serve.GrpcCalls;
import io.seldon.serve.SeldonException;
import io.seldon.serve.TypedTensor;
import io.seldon.serve.TypedTensor.Datatype;
import io.seldon.serve.v2.OpenInference.Input;
import io.seldon.serve.v2.OpenInference.Output;
import io.seldon.serve.v2.OpenInference.TensorMetadata;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/** inference.GRPCInferenceService over the dataplane: tensors in typed contents, or raw contents. */
final class V2Grpc extends GRPCInferenceServiceImplBase {
  private final OpenInference api;

  V2Grpc(OpenInference api) {
    this.api = api;
  }

  @Override
  public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> out) {
    answer(out, () -> ServerLiveResponse.newBuilder().setLive(true).build());
  }

  @Override
  public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> out) {
    answer(out, () -> ServerReadyResponse.newBuilder().setReady(api.ready()).build());
  }

  @Override
  public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> out) {
    answer(out, () -> {
      api.checkModel(request.getName(), request.getVersion());
      return ModelReadyResponse.newBuilder().setReady(api.ready()).build();
    });
  }

  @Override
  public void serverMetadata(ServerMetadataRequest request, StreamObserver<ServerMetadataResponse> out) {
    answer(out, () -> ServerMetadataResponse.newBuilder()
        .setName(OpenInference.SERVER_NAME)
        .setVersion(api.serverVersion())
        .addAllExtensions(OpenInference.EXTENSIONS)
        .build());
  }

  @Override
  public void modelMetadata(ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> out) {
    answer(out, () -> {
      api.checkModel(request.getName(), request.getVersion());
      ModelMetadataResponse.Builder response = ModelMetadataResponse.newBuilder()
          .setName(api.name())
          .addAllVersions(api.versions())
          .setPlatform(api.platform());
      api.tensorMetadata("inputs").forEach(tensor -> response.addInputs(tensorMetadata(tensor)));
      api.tensorMetadata("outputs").forEach(tensor -> response.addOutputs(tensorMetadata(tensor)));
      return response.build();
    });
  }

  @Override
  public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> out) {
    answer(out, () -> infer(request));
  }

  private static ModelMetadataResponse.TensorMetadata tensorMetadata(TensorMetadata tensor) {
    return ModelMetadataResponse.TensorMetadata.newBuilder()
        .setName(tensor.name())
        .setDatatype(tensor.datatype())
        .addAllShape(tensor.shape())
        .build();
  }

  /** Seldon's statuses, but an unknown model or version is NOT_FOUND (not UNIMPLEMENTED). */
  private static <T> void answer(StreamObserver<T> out, Supplier<T> call) {
    GrpcCalls.answer(out, call, e -> e.status() == 404 ? Status.Code.NOT_FOUND : GrpcCalls.code(e.status()));
  }

  ModelInferResponse infer(ModelInferRequest request) {
    api.checkModel(request.getModelName(), request.getModelVersion());
    int raws = request.getRawInputContentsCount();
    if (raws > 0 && raws != request.getInputsCount()) {
      throw new SeldonException("raw_input_contents has " + raws + " entries for " + request.getInputsCount()
          + " inputs");
    }
    List<Input> inputs = new ArrayList<>();
    for (int i = 0; i < request.getInputsCount(); i++) {
      inputs.add(input(request.getInputs(i), raws > 0 ? request.getRawInputContents(i) : null));
    }
    List<String> requested = request.getOutputsList().stream().map(o -> o.getName()).toList();
    List<Output> outputs = api.infer(request.getModelName(), request.getModelVersion(), inputs, requested);
    ModelInferResponse.Builder response = ModelInferResponse.newBuilder()
        .setModelName(api.name())
        .setId(request.getId());
    String version = api.answeredVersion(request.getModelVersion());
    if (version != null) {
      response.setModelVersion(version);
    }
    // raw contents are all or none; FP16 has no contents field, and a client that sent raw
    // contents expects them back
    boolean raw = raws > 0 || outputs.stream().anyMatch(o -> o.tensor().datatype() == Datatype.FP16);
    for (Output output : outputs) {
      addOutput(response, output, raw);
    }
    return response.build();
  }

  private static void addOutput(ModelInferResponse.Builder response, Output output, boolean raw) {
    TypedTensor tensor = output.tensor();
    ModelInferResponse.InferOutputTensor.Builder out = response.addOutputsBuilder()
        .setName(output.name())
        .setDatatype(tensor.datatype().name());
    for (long dim : tensor.shape()) {
      out.addShape(dim);
    }
    output.parameters().forEach((k, v) -> out.putParameters(k, InferParameter.newBuilder().setStringParam(v).build()));
    if (raw) {
      response.addRawOutputContents(RawContents.pack(tensor));
    } else {
      out.setContents(TensorContents.of(tensor));
    }
  }

  private static Input input(ModelInferRequest.InferInputTensor input, ByteString raw) {
    String inputName = input.getName();
    Datatype datatype = OpenInference.datatype(input.getDatatype(), inputName);
    long[] shape = input.getShapeList().stream().mapToLong(Long::longValue).toArray();
    try {
      Object data = raw != null ? RawContents.unpack(datatype, raw) : TensorContents.elements(datatype,
          input.getContents());
      return new Input(inputName, TypedTensor.of(datatype, shape, data));
    } catch (SeldonException e) {
      throw new SeldonException("input '" + inputName + "': " + e.getMessage());
    }
  }
}
