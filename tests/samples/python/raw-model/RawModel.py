class RawModel:
    """predict_raw receives the whole SeldonMessage (its JSON form, over REST and gRPC alike)
    and returns a whole message: here, which parts the request had, under the same puid."""

    def predict_raw(self, message):
        return {
            "jsonData": {"received": sorted(message), "names": message.get("data", {}).get("names", [])},
            "meta": {"puid": message.get("meta", {}).get("puid", "")},
        }
