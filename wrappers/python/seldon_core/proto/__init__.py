"""`seldon_core.proto.prediction_pb2` and `prediction_pb2_grpc`: seldon_serve's generated stubs.

They are the same module objects as `seldon_serve.proto.prediction_pb2[_grpc]`, registered under
this package's names too, so `import seldon_core.proto.prediction_pb2` and `from seldon_core.proto
import prediction_pb2` both work. A second generated copy is not an option: it would register the
`seldon.protos` descriptors in protobuf's default pool twice, which fails at import.
"""

import sys

from seldon_serve.proto import prediction_pb2, prediction_pb2_grpc

sys.modules[f"{__name__}.prediction_pb2"] = prediction_pb2
sys.modules[f"{__name__}.prediction_pb2_grpc"] = prediction_pb2_grpc

__all__ = ["prediction_pb2", "prediction_pb2_grpc"]
