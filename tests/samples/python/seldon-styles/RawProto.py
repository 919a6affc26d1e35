import numpy as np
from seldon_core.proto import prediction_pb2
from seldon_core.utils import get_data_from_proto, json_to_seldon_message, seldon_message_to_json


class RawProto:
    """A raw model written for both transports: protobuf over gRPC, a dict over REST."""

    def predict_raw(self, message):
        as_dict = isinstance(message, dict)
        if as_dict:
            message = json_to_seldon_message(message)
        features = get_data_from_proto(message)
        if isinstance(features, np.ndarray):
            text = f"shape {list(features.shape)}"
        else:
            text = f"kind {message.WhichOneof('data_oneof')}"
        answer = prediction_pb2.SeldonMessage(strData=text, meta=message.meta)
        return seldon_message_to_json(answer) if as_dict else answer

    def aggregate_raw(self, messages):
        """Seldon's executor sends a bare list over REST; a client may send {"seldonMessages": [...]}."""
        if isinstance(messages, prediction_pb2.SeldonMessageList):
            return prediction_pb2.SeldonMessage(strData=f"{len(messages.seldonMessages)} messages as protobuf")
        if isinstance(messages, list):
            return {"strData": f"{len(messages)} messages as a list"}
        return {"strData": f"{len(messages['seldonMessages'])} messages as an object"}
