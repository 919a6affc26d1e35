from google.protobuf import wrappers_pb2


class CustomData:
    """Takes gRPC's customData (a google.protobuf.Any) and answers another one."""

    def predict(self, X, names, meta=None):
        text = wrappers_pb2.StringValue()
        if hasattr(X, "Unpack") and X.Unpack(text):
            reply = wrappers_pb2.StringValue(value=text.value.upper())
            X.Pack(reply)
        return X
