"""The protocol between the Go gRPC front and the python workers (grpc_server.answer_bytes)."""

import grpc
from google.protobuf import descriptor_pb2, json_format

from seldon_serve import grpc_server
from seldon_serve.endpoints import Endpoints
from seldon_serve.microservice import Microservice
from seldon_serve.proto import prediction_pb2 as pb


class Doubler:
    def predict(self, X, names):
        return X * 2


SERVICE = grpc_server.methods(Endpoints(seldon=Microservice(Doubler()), v2=None))


def message(payload):
    return json_format.ParseDict(payload, pb.SeldonMessage()).SerializeToString()


def test_a_call_answers_a_status_byte_and_the_reply():
    out = grpc_server.answer_bytes(SERVICE, "/seldon.protos.Model/Predict", message({"data": {"ndarray": [[1, 2]]}}))
    assert out[0] == 0
    reply = pb.SeldonMessage.FromString(out[1:])
    assert json_format.MessageToDict(reply.data)["ndarray"] == [[2.0, 4.0]]


def test_errors_answer_their_grpc_code_and_message():
    code = grpc.StatusCode
    bad = grpc_server.answer_bytes(SERVICE, "/seldon.protos.Model/Predict", message({}))
    assert bad[0] == code.INVALID_ARGUMENT.value[0] and b"needs one of data" in bad[1:]
    # Every unit serves Route; one whose class has no route answers Seldon's 400.
    no_route = grpc_server.answer_bytes(SERVICE, "/seldon.protos.Router/Route", message({"strData": "x"}))
    assert no_route[0] == code.INVALID_ARGUMENT.value[0] and b"neither route nor route_raw" in no_route[1:]
    assert grpc_server.answer_bytes(SERVICE, "/seldon.protos.Nope/Nothing", b"")[0] == code.UNIMPLEMENTED.value[0]
    garbage = grpc_server.answer_bytes(SERVICE, "/seldon.protos.Model/Predict", b"\xff\xff\xff")
    assert garbage[0] == code.INVALID_ARGUMENT.value[0] and b"cannot decode" in garbage[1:]


def test_every_rpc_of_the_proto_has_a_handler():
    expected = {f"/{s.full_name}/{m.name}" for s in pb.DESCRIPTOR.services_by_name.values() for m in s.methods}
    assert set(grpc_server.METHODS) == expected and len(expected) == 17


def test_descriptor_set_holds_the_proto_and_its_imports_in_dependency_order():
    endpoints = Endpoints(seldon=Microservice(Doubler()), v2=None)
    files = descriptor_pb2.FileDescriptorSet.FromString(grpc_server.descriptor_set(endpoints)).file
    names = [f.name for f in files]
    assert names[-1] == "prediction.proto" and "tf_tensor.proto" in names and "google/protobuf/struct.proto" in names
    for index, file in enumerate(files):
        assert set(file.dependency) <= set(names[:index])
