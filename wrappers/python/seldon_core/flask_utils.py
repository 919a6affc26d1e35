"""`seldon_core.flask_utils`: the error a model raises to choose its HTTP status, and the pod
annotation names Seldon's wrapper reads.

`SeldonMicroserviceException` is seldon_serve's own class (not a copy), so raising it from a model
answers with its status code and reason. Seldon's Flask request helpers (get_request, jsonify) are
not offered: seldon_serve does not run Flask.
"""

from seldon_serve.errors import SeldonMicroserviceException

ANNOTATIONS_FILE = "/etc/podinfo/annotations"
ANNOTATION_GRPC_MAX_MSG_SIZE = "seldon.io/grpc-max-message-size"
DEFAULT_ANNOTATION_REST_TIMEOUT = 5000
ANNOTATION_REST_TIMEOUT = "seldon.io/rest-timeout"

__all__ = [
    "ANNOTATIONS_FILE",
    "ANNOTATION_GRPC_MAX_MSG_SIZE",
    "ANNOTATION_REST_TIMEOUT",
    "DEFAULT_ANNOTATION_REST_TIMEOUT",
    "SeldonMicroserviceException",
]
