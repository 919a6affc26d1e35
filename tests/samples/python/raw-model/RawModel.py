from seldon_core.utils import json_to_seldon_message, seldon_message_to_json


class RawModel:
    """predict_raw receives the whole SeldonMessage -- its JSON form over REST, the protobuf
    over gRPC, as Seldon's wrapper hands it over -- and returns a whole message of the same
    form: here, which parts the request had, under the same puid."""

    def predict_raw(self, message):
        as_proto = not isinstance(message, dict)
        if as_proto:
            message = seldon_message_to_json(message)
        answer = {
            "jsonData": {"received": sorted(message), "names": message.get("data", {}).get("names", [])},
            "meta": {"puid": message.get("meta", {}).get("puid", "")},
        }
        return json_to_seldon_message(answer) if as_proto else answer
