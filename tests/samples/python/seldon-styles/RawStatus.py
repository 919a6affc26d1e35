from seldon_core.utils import (
    construct_response,
    construct_response_json,
    extract_request_parts,
    extract_request_parts_json,
    json_to_seldon_message,
)


class RawStatus:
    """predict_raw answering a status code of its own: a request without data is refused with
    a status the REST answer takes; others are answered through Seldon's own helpers, the JSON
    ones over REST and the protobuf ones over gRPC (where Seldon hands over the message)."""

    REFUSAL = {"status": {"code": 422, "info": "send data", "reason": "NO_DATA", "status": "FAILURE"}}  # noqa: RUF012

    def predict_raw(self, request):
        if isinstance(request, dict):
            if "data" not in request:
                return self.REFUSAL
            features, meta, _, _ = extract_request_parts_json(request)
            return construct_response_json(self, False, request, features, meta)
        if request.WhichOneof("data_oneof") != "data":
            return json_to_seldon_message(self.REFUSAL)
        features, meta, _, _ = extract_request_parts(request)
        return construct_response(self, False, request, features, meta)
