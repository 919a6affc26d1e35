"""Seldon's oldest hooks, <verb>_rest and <verb>_grpc, which its wrapper still calls before
<verb>_raw (with a deprecation warning on every call): served as it serves them, so a model
written for Seldon 0.x runs unchanged.

predict_rest takes REST's requests (the JSON form, or the body's bytes under
PAYLOAD_PASSTHROUGH) and predict_grpc gRPC's (the protobuf), each leaving the other transport to
predict_raw or predict. For the other verbs the first of <verb>_rest and <verb>_grpc takes every
request, in the form its transport brought it; send_feedback_rest takes the Feedback as JSON text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message as ProtoMessage

from .user_model import SeldonNotImplementedError

Hook = Callable[..., Any]
SUFFIXES = ("_rest", "_grpc")


def found(verbs: tuple[str, ...], attr: Callable[[str], Hook | None]) -> list[str]:
    """The legacy hooks a model defines, by name."""
    return [verb + suffix for verb in verbs for suffix in SUFFIXES if attr(verb + suffix) is not None]


def raw_hook(verb: str, attr: Callable[[str], Hook | None]) -> Hook | None:
    """What takes verb's whole message: <verb>_raw, unless a legacy hook comes first as Seldon's
    wrapper orders them. A call that no hook takes raises SeldonNotImplementedError, which the
    caller reads as absent (the verb's plain method answers)."""
    raw, rest, grpc = attr(f"{verb}_raw"), attr(f"{verb}_rest"), attr(f"{verb}_grpc")
    if rest is None and grpc is None:
        return raw
    if verb == "predict":
        return _by_transport(rest, grpc, raw)
    if verb == "send_feedback" and rest is not None:
        return lambda feedback: rest(json_format.MessageToJson(feedback))
    return rest or grpc


def _by_transport(rest: Hook | None, grpc: Hook | None, raw: Hook | None) -> Hook:
    def predict(message: Any) -> Any:
        hook = (grpc if isinstance(message, ProtoMessage) else rest) or raw
        if hook is None:
            raise SeldonNotImplementedError("predict_raw is not implemented")
        return hook(message)

    return predict
