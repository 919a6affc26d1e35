"""The Open Inference Protocol ("v2": KServe, Seldon Core 2, MLServer, Triton) over the same
Microservice the Seldon protocol uses, so the model's code does not change.

By concern:
- codec: JSON tensors <-> numpy arrays, the datatypes (FP16, BYTES) and the checks of a tensor;
- raw: gRPC's raw_input_contents / raw_output_contents packing;
- dataplane: OpenInference, the endpoints (readiness, metadata, inference) and how tensors
  become the model's X;
- rest: the /v2 REST paths; grpc: the gRPC methods (imported by grpc_server when served).
"""

from . import rest
from .codec import DATATYPES, array_from_json, datatype_of, json_output
from .dataplane import OUTPUT_NAME, SERVER_NAME, NotFound, OpenInference, as_array, features
from .raw import pack, unpack_bytes
from .rest import error_body

__all__ = [
    "DATATYPES",
    "OUTPUT_NAME",
    "SERVER_NAME",
    "NotFound",
    "OpenInference",
    "array_from_json",
    "as_array",
    "datatype_of",
    "error_body",
    "features",
    "json_output",
    "pack",
    "rest",
    "unpack_bytes",
]
