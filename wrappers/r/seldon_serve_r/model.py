"""An R model file as the class the wrapper serves.

`define("MyModel.R")` sources the file once and returns a class; constructing it calls
`initialise_seldon(params)` and binds each Seldon hook to the S3 method the returned
object's class has for it. Hooks the object has no method for stay undefined, so the
wrapper's defaults apply exactly as for a Python class without them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from seldon_serve.contract import REQUIRED_VERB
from seldon_serve.errors import BAD_PARAMETER, StartupError

from . import convert, runtime
from .runtime import RError

# Hooks taking request data: wrapper name -> R generic. Each also has a *_raw variant that
# receives the whole SeldonMessage as nested lists.
DATA_VERBS = ("predict", "transform_input", "transform_output")
RAW_VERBS = tuple(f"{verb}_raw" for verb in (*DATA_VERBS, "route", "aggregate", "send_feedback"))
PLAIN_HOOKS = {  # wrapper name -> R generic, for hooks taking only the object
    "tags": "tags",
    "metrics": "metrics",
    "init_metadata": "metadata",
    "class_names": "class_names",
    "health_status": "health_status",
}


def define(path: str) -> type:
    """The class serving the R model file at `path` (its name without .R)."""
    if not os.path.isfile(path):
        raise StartupError(f"cannot find the R model file {path}")
    try:
        has_initialiser = runtime.invoke(runtime.function("seldon_source"), _str(os.path.abspath(path)))
    except RError as exc:
        raise StartupError(f"sourcing {os.path.basename(path)} failed: {exc}") from exc
    if not has_initialiser[0]:
        raise StartupError(
            f"{os.path.basename(path)} defines no function initialise_seldon(params): "
            "it must return your model's S3 object"
        )
    name = os.path.splitext(os.path.basename(path))[0]
    return type(name, (RModel,), {"source_file": os.path.basename(path)})


class RModel:
    """One R object from initialise_seldon(params), with the hooks its class has methods for."""

    source_file = "MyModel.R"
    # R's *_raw hooks take a message as nested lists, converted from its JSON form over either
    # transport (Seldon's python wrapper hands a Python model the protobuf over gRPC).
    raw_messages_as_json = True

    def __init__(self, **parameters: Any):
        ri = runtime.session()
        params = ri.baseenv["list"](**{name: _param(value) for name, value in parameters.items()})
        try:
            self._object = runtime.invoke(ri.globalenv.find("initialise_seldon"), params)
        except RError as exc:
            raise StartupError(f"{self.source_file}: initialise_seldon(params) failed: {exc}", BAD_PARAMETER) from exc
        for verb in DATA_VERBS:
            self._bind(verb, verb, self._data_hook)
        for verb in RAW_VERBS:
            self._bind(verb, verb, self._raw_hook)
        for hook, generic in PLAIN_HOOKS.items():
            self._bind(hook, generic, self._plain_hook)
        self._bind("route", "route", self._route_hook)
        self._bind("aggregate", "aggregate", self._aggregate_hook)
        self._bind("send_feedback", "send_feedback", self._feedback_hook)

    @classmethod
    def seldon_check(cls, service_type: str) -> list[str]:
        """Build-time notes: the methods are only known once initialise_seldon has run, so a
        missing one is a warning (it may come from the object's class, e.g. predict.lm)."""
        verb = REQUIRED_VERB.get(service_type)
        if verb is None:
            return []
        names = runtime.function("seldon_defined_methods")(_str(verb, f"{verb}_raw"))
        if len(names):
            return []
        return [
            f"warning: {cls.source_file} defines no {verb}.<class> method; the object initialise_seldon "
            f"returns needs one (its class may bring it, as an lm brings predict.lm)"
        ]

    def _bind(self, hook: str, generic: str, make: Callable[[Any, Any], Callable[..., Any]]) -> None:
        method = runtime.function("seldon_method")(_str(generic), self._object)
        if method is not runtime.session().NULL:
            setattr(self, hook, make(method, set(runtime.function("seldon_formals")(method))))

    # ---- the hooks, as the wrapper calls them ------------------------------------------------

    def _data_hook(self, method: Any, formals: set[str]) -> Callable[..., Any]:
        takes_meta = "meta" in formals or "..." in formals
        caller = runtime.frame_caller(method, self._object)

        def hook(X: Any, names: list[str], meta: dict[str, Any] | None = None) -> Any:
            r_meta = convert.json_to_r(meta or {}) if takes_meta else None
            frame = convert.numeric_frame_parts(X, names)
            if frame is not None:  # the common request, in one call into R
                flat = runtime.invoke_on_frame(caller, frame, r_meta)
            else:
                more = [] if r_meta is None else [r_meta]
                flat = runtime.invoke(method, self._object, convert.to_r(X, names), *more, flatten=True)
            return _like_request(convert.from_flat(flat), X)

        return hook

    def _route_hook(self, method: Any, formals: set[str]) -> Callable[..., Any]:
        """R has no scalars: a length-one answer is the child index (1 as well as 1L); anything
        else goes to the wrapper as it is, which refuses it with a message."""
        data_hook = self._data_hook(method, formals)

        def hook(X: Any, names: list[str], meta: dict[str, Any] | None = None) -> Any:
            branch = data_hook(X, names, meta)
            if isinstance(branch, np.ndarray) and branch.size == 1:
                branch = branch.item()
            if isinstance(branch, float) and branch.is_integer():
                branch = int(branch)
            return branch

        return hook

    def _raw_hook(self, method: Any, _formals: set[str]) -> Callable[..., Any]:
        def hook(message: Any) -> Any:
            return convert.from_flat(runtime.invoke(method, self._object, convert.json_to_r(message), flatten=True))

        return hook

    def _plain_hook(self, method: Any, _formals: set[str]) -> Callable[..., Any]:
        def hook() -> Any:
            result = convert.from_flat(runtime.invoke(method, self._object, flatten=True))
            return result.tolist() if isinstance(result, np.ndarray) else result

        return hook

    def _aggregate_hook(self, method: Any, _formals: set[str]) -> Callable[..., Any]:
        ri = runtime.session()

        def hook(features_list: list[Any], names_list: list[list[str]]) -> Any:
            inputs = ri.ListSexpVector(
                [convert.to_r(x, names) for x, names in zip(features_list, names_list, strict=True)]
            )
            return _like_request(
                convert.from_flat(runtime.invoke(method, self._object, inputs, flatten=True)), features_list[0]
            )

        return hook

    def _feedback_hook(self, method: Any, formals: set[str]) -> Callable[..., Any]:
        takes_routing = "routing" in formals or "..." in formals or len(formals) >= 5

        def hook(features: Any, names: list[str], reward: float, truth: Any, routing: Any = None) -> Any:
            args = [self._object, convert.to_r(features, names), _param(float(reward)), convert.to_r(truth)]
            if takes_routing:
                args.append(_param(routing) if routing is not None else runtime.session().NULL)
            return convert.from_flat(runtime.invoke(method, *args, flatten=True))

        return hook


def _like_request(result: Any, request: Any) -> Any:
    """What R cannot say itself: a one-string answer to strData is strData again; numbers R
    computed in double answer in the request's narrower numeric type (FP16, FP32, INT8..INT32,
    UINT8..UINT32 Open Inference tensors; a DT_FLOAT tftensor) when they fit it exactly. int64
    is what JSON integers decode to, so INT64 and UINT64 stay double, as R holds them."""
    if isinstance(request, str) and isinstance(result, np.ndarray) and result.shape == (1,) and result.dtype == object:
        return str(result[0])
    if isinstance(request, np.ndarray) and request.dtype.kind in "iuf" and request.dtype.itemsize < 8:
        values = result.values if isinstance(result, convert.Table) else result
        if isinstance(values, np.ndarray) and values.dtype == np.float64 and _fits(values, request.dtype):
            values = values.astype(request.dtype)
            return convert.Table(values, result.names) if isinstance(result, convert.Table) else values
    return result


def _fits(values: np.ndarray, dtype: np.dtype[Any]) -> bool:
    """Floats narrow as R's float32 answers always did; integers when every value is one the
    type holds."""
    if dtype.kind == "f":
        return True
    if not np.all(np.isfinite(values)) or not np.all(values == np.round(values)):
        return False
    info = np.iinfo(dtype)
    return bool(values.size == 0 or (values.min() >= info.min and values.max() <= info.max))


def _str(*values: str) -> Any:
    return runtime.session().StrSexpVector(list(values))


def _param(value: Any) -> Any:
    ri = runtime.session()
    if isinstance(value, bool):
        return ri.BoolSexpVector([value])
    if isinstance(value, int):
        return ri.IntSexpVector([value])
    if isinstance(value, float):
        return ri.FloatSexpVector([value])
    return ri.StrSexpVector([str(value)])
