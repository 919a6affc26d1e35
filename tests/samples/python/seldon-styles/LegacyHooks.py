from seldon_core.proto import prediction_pb2


class LegacyHooks:
    """A model of Seldon 0.x's time, on the hooks Seldon's wrapper still calls before the *_raw
    ones: predict_rest answers REST's predictions and predict_grpc gRPC's; transform_input_rest,
    transform_output_grpc, route_rest and aggregate_grpc take both transports' requests, in the
    form each brought (a dict over REST, the protobuf over gRPC), and answer in the same form;
    send_feedback_rest takes the Feedback as JSON text."""

    def predict_rest(self, message):
        return {"strData": f"predict_rest: {sorted(message)}"}

    def predict_grpc(self, message):
        return prediction_pb2.SeldonMessage(strData=f"predict_grpc: {message.WhichOneof('data_oneof')}")

    def transform_input_rest(self, message):
        return _answer(message, "transform_input_rest")

    def transform_output_grpc(self, message):
        return _answer(message, "transform_output_grpc")

    def route_rest(self, message):
        if isinstance(message, dict):
            return {"data": {"ndarray": [[1]]}}
        answer = prediction_pb2.SeldonMessage()
        answer.data.ndarray.values.add().list_value.values.add().number_value = 1
        return answer

    def aggregate_grpc(self, messages):
        return _answer(messages, "aggregate_grpc")

    def send_feedback_rest(self, feedback_json):
        return {"strData": f"send_feedback_rest: {len(feedback_json) > 0}"}


def _answer(message, text):
    """strData naming the hook, in the form the request came in."""
    if isinstance(message, dict | list):
        return {"strData": f"{text}: {type(message).__name__}"}
    return prediction_pb2.SeldonMessage(strData=f"{text}: {type(message).__name__}")
