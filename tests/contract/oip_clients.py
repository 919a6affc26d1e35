"""Call a running model with a real Open Inference Protocol client and report what worked.

Run inside the client's own venv (tools.ensure_tritonclient / tools.ensure_kserve), never imported
by pytest, whose venv holds neither client:

    <venv>/bin/python tests/contract/oip_clients.py < job.json > results.json

The job: {"client": "triton" | "kserve", "transport": "rest" | "grpc", "binary": bool,
"url": "host:port", "model": "identity", "version": "1", "answer_datatypes": {datatype: the
datatype the model answers it with}, "values": {datatype: the values sent}} (an R model answers
INT64 and UINT64 as FP64; BYTES values are sent as their UTF-8).

"binary": true leaves the clients' defaults alone (binary tensor data: neither client is told
binary_data); false passes binary_data=False wherever the client has the option, on inputs and
on requested outputs. Triton's gRPC client has no such option: it always sends raw contents.

The results: [{"check": name, "ok": bool, "error": "<exception type>: <message>"}], one per
check, each isolated from the others; a check the client cannot express is ok with "skipped"
naming why.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

OUTPUT = "output-0"  # the one output of a model whose metadata declares none
UNKNOWN_MODEL = "no-such-model"
UNKNOWN_VERSION = "9"
TIMEOUT = 30.0

# The values sent, by datatype: the contract suite's (contract_client.OIP_DATA), which main()
# reads from the job; BYTES as UTF-8 bytes, as the clients send them.
DATA: dict[str, list[Any]] = {}
NUMPY = {
    "BOOL": np.bool_, "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32, "UINT64": np.uint64,
    "INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64,
    "FP16": np.float16, "FP32": np.float32, "FP64": np.float64, "BYTES": np.object_,
}  # fmt: skip

# Requested outputs: (name, binary) where binary None leaves the client's default.
Requested = list[tuple[str, "bool | None"]]


class Skip(Exception):
    """The client has no way to express the check: the message says why."""


class Answer:
    """An inference answer, read as the client reads it: output name -> numpy array (or None)."""

    def __init__(self, as_numpy: Callable[[str], np.ndarray | None]):
        self.as_numpy = as_numpy


# ---- the clients, behind one interface ------------------------------------------------------------


class Client:
    """One client and transport. Calls raise what the client raises."""

    # Compression algorithms the client's API can ask for; when none, why it cannot compress.
    compressions: tuple[str, ...] = ("gzip", "deflate")
    cannot_compress: str = ""
    # The client sends Accept-Encoding on its own, so answers come back compressed unasked.
    accepts_compressed_answers: bool = False
    # Over REST, the client asks for binary answers when it requests no output by name.
    binary_answers_by_default: bool = False
    # The client can name a model version in an inference request.
    addresses_versions: bool = True
    # datatype -> why the client cannot send it without the binary extension.
    json_refuses: ClassVar[dict[str, str]] = {}

    def __init__(self, job: dict[str, Any]):
        self.job = job
        self.binary: bool = job["binary"]
        # The last REST answer's headers (lowercase names); None over gRPC, which has none to see.
        self.last_headers: dict[str, str] | None = None

    def live(self) -> bool: ...
    def ready(self) -> bool: ...
    def server_metadata(self) -> dict[str, Any]: ...
    def model_metadata(self, model: str, version: str) -> dict[str, Any]: ...
    def model_ready(self, model: str, version: str) -> bool: ...
    def status(self, exc: Exception) -> str | None:
        """The server's answer an exception carries, as a gRPC status name; None if it has none."""

    def infer(
        self,
        model: str,
        version: str,
        inputs: dict[str, np.ndarray],
        outputs: Requested | None = None,
        compression: str | None = None,
    ) -> Answer: ...

    def close(self) -> None: ...

    def binary_option(self) -> dict[str, bool]:
        """What set_data_from_numpy is told: nothing (its default: binary) or binary_data=False."""
        return {} if self.binary else {"binary_data": False}


HTTP_STATUS = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 500: "INTERNAL", 503: "UNAVAILABLE"}


class Triton(Client):
    """tritonclient.http or tritonclient.grpc: the two share their method names."""

    # tritonclient.http sets binary_data_output when it is given no requested outputs.
    binary_answers_by_default = True

    def __init__(self, job: dict[str, Any]):
        super().__init__(job)
        if job["transport"] == "rest":
            import tritonclient.http as module

            class HeaderKeepingClient(module.InferenceServerClient):
                """Keeps the last answer's headers (InferResult does not): whether it came
                compressed, whether it carried binary tensors."""

                headers: dict[str, str] | None = None

                def _post(self, *args: Any, **kwargs: Any) -> Any:
                    response = super()._post(*args, **kwargs)
                    self.headers = {name.lower(): value for name, value in response.items()}
                    return response

            self.client = HeaderKeepingClient(job["url"], connection_timeout=TIMEOUT, network_timeout=TIMEOUT)
            self.call_options: dict[str, Any] = {}
        else:
            import tritonclient.grpc as module

            self.client = module.InferenceServerClient(job["url"])
            self.call_options = {"client_timeout": TIMEOUT}
        self.module = module
        self.rest = job["transport"] == "rest"

    def live(self) -> bool:
        return self.client.is_server_live(**self.call_options)

    def ready(self) -> bool:
        return self.client.is_server_ready(**self.call_options)

    def server_metadata(self) -> dict[str, Any]:
        return self.client.get_server_metadata(**self._as_json())

    def model_metadata(self, model: str, version: str) -> dict[str, Any]:
        return self.client.get_model_metadata(model, version, **self._as_json())

    def model_ready(self, model: str, version: str) -> bool:
        return self.client.is_model_ready(model, version, **self.call_options)

    def _as_json(self) -> dict[str, Any]:
        return self.call_options if self.rest else {**self.call_options, "as_json": True}

    def status(self, exc: Exception) -> str | None:
        from tritonclient.utils import InferenceServerException

        if not isinstance(exc, InferenceServerException) or exc.status() is None:
            return None
        status = exc.status()  # REST: "404"; gRPC: "StatusCode.NOT_FOUND"
        return HTTP_STATUS.get(int(status), status) if status.isdigit() else status.removeprefix("StatusCode.")

    def infer(self, model, version, inputs, outputs=None, compression=None) -> Answer:  # type: ignore[no-untyped-def]
        tensors = []
        for name, values in inputs.items():
            tensor = self.module.InferInput(name, list(values.shape), datatype_of(values))
            tensor.set_data_from_numpy(values, **self.binary_option())
            tensors.append(tensor)
        requested = None if outputs is None else [self._requested(name, binary) for name, binary in outputs]
        try:
            result = self.client.infer(
                model, tensors, model_version=version, outputs=requested, **self._compression(compression)
            )
        finally:
            self.last_headers = getattr(self.client, "headers", None)
        return Answer(result.as_numpy)

    def binary_option(self) -> dict[str, bool]:
        return super().binary_option() if self.rest else {}  # over gRPC it has no such option

    def _requested(self, name: str, binary: bool | None) -> Any:
        if binary is None or not self.rest:
            return self.module.InferRequestedOutput(name)
        return self.module.InferRequestedOutput(name, binary_data=binary)

    def _compression(self, algorithm: str | None) -> dict[str, Any]:
        if self.rest:
            return {"request_compression_algorithm": algorithm, "response_compression_algorithm": algorithm}
        return {**self.call_options, "compression_algorithm": algorithm}

    def close(self) -> None:
        self.client.close()


class KServe(Client):
    """kserve's InferenceRESTClient (protocol v2) or InferenceGRPCClient: asynchronous, so each
    call runs on one event loop the client lives on."""

    # kserve refuses FP16 without the binary extension: its REST client raises "Sending FP16 data
    # via JSON is not supported", and its gRPC request has no contents field for FP16.
    json_refuses: ClassVar[dict[str, str]] = {
        "FP16": "kserve cannot send FP16 with binary_data=False (its own InvalidInput)"
    }

    def __init__(self, job: dict[str, Any]):
        super().__init__(job)
        import asyncio

        from kserve import InferInput, InferRequest
        from kserve.protocol.infer_type import RequestedOutput

        self.InferInput, self.InferRequest, self.RequestedOutput = InferInput, InferRequest, RequestedOutput
        self.runner = asyncio.Runner()
        self.client = self.run(self._connect())

    def run(self, coroutine: Any) -> Any:
        return self.runner.run(coroutine)

    async def _connect(self, compression: str | None = None) -> Any: ...

    def server_metadata(self) -> dict[str, Any]:
        raise Skip("kserve's clients have no server metadata call")

    def model_metadata(self, model: str, version: str) -> dict[str, Any]:
        raise Skip("kserve's clients have no model metadata call")

    def request(self, model: str, version: str, inputs: dict[str, np.ndarray], outputs: Requested | None) -> Any:
        tensors = []
        for name, values in inputs.items():
            tensor = self.InferInput(name, list(values.shape), datatype_of(values))
            tensor.set_data_from_numpy(values, **self.binary_option())
            tensors.append(tensor)
        requested = None
        if outputs is not None:
            requested = [
                self.RequestedOutput(name, parameters=None if binary is None else {"binary_data": binary})
                for name, binary in outputs
            ]
        return self.InferRequest(model, tensors, request_outputs=requested, model_version=version)

    @staticmethod
    def answer(response: Any) -> Answer:
        outputs = {output.name: output for output in response.outputs}
        return Answer(lambda name: outputs[name].as_numpy() if name in outputs else None)

    def close(self) -> None:
        try:
            self.run(self.client.close())
        finally:
            self.runner.close()


class KServeRest(KServe):
    # Its httpx client asks for compressed answers (Accept-Encoding: gzip, deflate) on its own;
    # it has no way to compress a request: infer() posts the body it serialised, as it is.
    compressions = ()
    cannot_compress = "kserve's InferenceRESTClient cannot compress a request body"
    accepts_compressed_answers = True
    # Neither its URL (/v2/models/<name>/infer) nor its request body carries model_version.
    addresses_versions = False

    async def _connect(self, compression: str | None = None) -> Any:
        from kserve import InferenceRESTClient, RESTConfig

        return InferenceRESTClient(RESTConfig(protocol="v2", timeout=TIMEOUT))

    @property
    def base_url(self) -> str:
        return f"http://{self.job['url']}"

    def live(self) -> bool:
        return self.run(self.client.is_server_live(self.base_url))

    def ready(self) -> bool:
        return self.run(self.client.is_server_ready(self.base_url))

    def model_ready(self, model: str, version: str) -> bool:
        # Its REST URLs name no version: /v2/models/<name>/ready.
        return self.run(self.client.is_model_ready(self.base_url, model))

    def status(self, exc: Exception) -> str | None:
        import httpx

        return HTTP_STATUS.get(exc.response.status_code) if isinstance(exc, httpx.HTTPStatusError) else None

    def infer(self, model, version, inputs, outputs=None, compression=None) -> Answer:  # type: ignore[no-untyped-def]
        headers: dict[str, str] = {}
        request = self.request(model, version, inputs, outputs)
        response = self.run(self.client.infer(self.base_url, request, model_name=model, response_headers=headers))
        self.last_headers = {name.lower(): value for name, value in headers.items()}
        return self.answer(response)


class KServeGrpc(KServe):
    def __init__(self, job: dict[str, Any]):
        super().__init__(job)
        self.compressed: dict[str, Any] = {}  # algorithm -> a client whose channel compresses with it

    async def _connect(self, compression: str | None = None) -> Any:
        import grpc
        from kserve import InferenceGRPCClient

        # Its only compression setting is gRPC's own channel argument, through channel_args.
        channel_args = None
        if compression is not None:
            algorithm = {"gzip": grpc.Compression.Gzip, "deflate": grpc.Compression.Deflate}[compression]
            channel_args = [("grpc.default_compression_algorithm", int(algorithm))]
        return InferenceGRPCClient(self.job["url"], timeout=TIMEOUT, channel_args=channel_args)

    def live(self) -> bool:
        return self.run(self.client.is_server_live())

    def ready(self) -> bool:
        return self.run(self.client.is_server_ready())

    def model_ready(self, model: str, version: str) -> bool:
        # Its ModelReadyRequest carries no version.
        return self.run(self.client.is_model_ready(model))

    def status(self, exc: Exception) -> str | None:
        import grpc

        return exc.code().name if isinstance(exc, grpc.RpcError) else None

    def infer(self, model, version, inputs, outputs=None, compression=None) -> Answer:  # type: ignore[no-untyped-def]
        client = self.client
        if compression is not None:
            if compression not in self.compressed:
                self.compressed[compression] = self.run(self._connect(compression))
            client = self.compressed[compression]
        return self.answer(self.run(client.infer(self.request(model, version, inputs, outputs))))

    def close(self) -> None:
        for client in self.compressed.values():
            self.run(client.close())
        super().close()


def connect(job: dict[str, Any]) -> Client:
    if job["client"] == "triton":
        return Triton(job)
    return {"rest": KServeRest, "grpc": KServeGrpc}[job["transport"]](job)


# ---- tensors --------------------------------------------------------------------------------------


def datatype_of(values: np.ndarray) -> str:
    return next(name for name, kind in NUMPY.items() if values.dtype == np.dtype(kind))


def tensor(datatype: str, shape: tuple[int, ...] = (2, 2)) -> np.ndarray:
    return np.array(DATA[datatype], dtype=NUMPY[datatype]).reshape(shape)


def assert_same(got: np.ndarray | None, expected: np.ndarray) -> None:
    """got is what the client read from the answer. Both clients hand JSON BYTES back as str (JSON
    has no bytes): compared as their UTF-8."""
    assert got is not None, f"the answer has no {OUTPUT}"
    if expected.dtype == np.object_:
        got = np.array([v.encode() if isinstance(v, str) else v for v in got.flat], dtype=object).reshape(got.shape)
    assert got.dtype == expected.dtype, f"answered {got.dtype}, expected {expected.dtype}"
    assert got.shape == expected.shape, f"answered shape {got.shape}, expected {expected.shape}"
    assert np.array_equal(got, expected), f"answered {got.tolist()!r}, expected {expected.tolist()!r}"


def expect_error(call: Callable[[], Any], client: Client, status: str, mentions: str = "") -> None:
    """call must raise the server's refusal with that status (so a connection failure won't do)."""
    try:
        call()
    except Exception as exc:
        got = client.status(exc)
        assert got == status, f"raised {describe(exc)} ({got or 'no server status'}), not {status}"
        assert mentions in describe(exc), f"the error does not mention {mentions!r}: {describe(exc)}"
        return
    raise AssertionError(f"the client raised nothing; {status} was expected")


# ---- the checks -----------------------------------------------------------------------------------


class Checks:
    def __init__(self, client: Client, job: dict[str, Any]):
        self.client = client
        self.model, self.version = job["model"], job["version"]
        self.answers = job.get("answer_datatypes", {})
        self.binary: bool = job["binary"]
        # A requested output's binary setting: the client's default, or binary_data=False.
        self.output_binary = None if self.binary else False
        # What every inference asks for: the client's defaults, or output-0 with binary_data=False.
        self.outputs: Requested | None = None if self.binary else [(OUTPUT, False)]

    def plan(self) -> list[tuple[str, Callable[[], None]]]:
        checks = [
            ("server live", self.server_live),
            ("server ready", self.server_ready),
            ("server metadata", self.server_metadata),
            ("model metadata", self.model_metadata),
            ("model ready", self.model_ready),
        ]
        checks += [(f"infer {datatype}", lambda d=datatype: self.infer_datatype(d)) for datatype in DATA]
        checks += [
            ("infer two one-column inputs", self.one_column_inputs),
            (f"requested output {OUTPUT}", self.requested_output),
            ("unknown requested output", self.unknown_output),
        ]
        if self.client.job["transport"] == "rest":  # only REST answers show their framing
            checks.append((self._framing_name(), self.answer_framing))
        checks += [(f"compression {name}", lambda a=name: self.compression(a)) for name in self.client.compressions]
        if not self.client.compressions:
            checks.append(("request compression", self.no_request_compression))
        if self.client.accepts_compressed_answers:
            checks.append(("compressed answer unasked (Accept-Encoding)", self.compressed_answer_unasked))
        checks += [
            ("unknown model", self.unknown_model),
            ("unknown model is not ready", self.unknown_model_not_ready),
            ("unknown version", self.unknown_version),
        ]
        return checks

    def infer(self, inputs: dict[str, np.ndarray], outputs: Requested | None = None, **options: Any) -> Answer:
        outputs = self.outputs if outputs is None else outputs
        return self.client.infer(self.model, self.version, inputs, outputs, **options)

    def expected(self, datatype: str, shape: tuple[int, ...] = (2, 2)) -> np.ndarray:
        answered = self.answers.get(datatype, datatype)
        return np.array(DATA[datatype], dtype=NUMPY[answered]).reshape(shape)

    def sendable(self, datatype: str) -> None:
        if not self.binary and datatype in self.client.json_refuses:
            raise Skip(self.client.json_refuses[datatype])

    # -- health and metadata

    def server_live(self) -> None:
        assert self.client.live() is True, "not live"

    def server_ready(self) -> None:
        assert self.client.ready() is True, "not ready"

    def server_metadata(self) -> None:
        metadata = self.client.server_metadata()
        assert metadata.get("name") and metadata.get("version"), f"no name or version: {metadata}"
        assert "binary_tensor_data" in metadata.get("extensions", []), f"extensions: {metadata.get('extensions')}"

    def model_metadata(self) -> None:
        metadata = self.client.model_metadata(self.model, self.version)
        assert metadata.get("name") == self.model, f"name: {metadata.get('name')!r}"
        assert self.version in metadata.get("versions", []), f"versions: {metadata.get('versions')}"

    def model_ready(self) -> None:
        assert self.client.model_ready(self.model, self.version) is True, "not ready"

    # -- inference

    def infer_datatype(self, datatype: str) -> None:
        self.sendable(datatype)
        answer = self.infer({"x": tensor(datatype)})
        assert_same(answer.as_numpy(OUTPUT), self.expected(datatype))

    def one_column_inputs(self) -> None:
        columns = {"a": np.array([1.0, 2.0, 3.0]), "b": np.array([4.0, 5.0, 6.0])}
        answer = self.infer(columns)
        assert_same(answer.as_numpy(OUTPUT), np.array([[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]))

    def requested_output(self) -> None:
        answer = self.infer({"x": tensor("FP32")}, [(OUTPUT, self.output_binary)])
        assert_same(answer.as_numpy(OUTPUT), self.expected("FP32"))

    def unknown_output(self) -> None:
        call = functools.partial(self.infer, {"x": tensor("FP32")}, [("no-such-output", self.output_binary)])
        expect_error(call, self.client, "INVALID_ARGUMENT", mentions="no output")

    def _framing_name(self) -> str:
        return "binary answers when asked, every datatype" if self.binary else "JSON answers, every datatype"

    def answer_framing(self) -> None:
        """Over REST the answer's framing shows: Inference-Header-Content-Length when it carries
        binary tensors. Triton's client asks for them by default; kserve's with binary_data."""
        outputs = self.outputs
        if self.binary and not self.client.binary_answers_by_default:
            outputs = [(OUTPUT, True)]
        for datatype in DATA:
            if not self.binary and datatype in self.client.json_refuses:
                continue
            answer = self.infer({"x": tensor(datatype)}, outputs)
            framed = "inference-header-content-length" in (self.client.last_headers or {})
            assert framed == self.binary, f"{datatype}: answered {'binary' if framed else 'JSON'}"
            try:
                assert_same(answer.as_numpy(OUTPUT), self.expected(datatype))
            except AssertionError as exc:
                raise AssertionError(f"{datatype}: {exc}") from None

    # -- compression: the answer must be over 1024 bytes for the server to compress it

    def big(self) -> dict[str, np.ndarray]:
        return {"x": np.linspace(0.0, 1.0, 512).reshape(256, 2)}  # 4 KB of FP64

    def compression(self, algorithm: str) -> None:
        answer = self.infer(self.big(), compression=algorithm)
        assert_same(answer.as_numpy(OUTPUT), self.big()["x"])
        # Over REST the answer says how it came; neither client shows a gRPC answer's encoding.
        if self.client.last_headers is not None:
            encoding = self.client.last_headers.get("content-encoding")
            assert encoding == algorithm, f"answered with Content-Encoding {encoding}, asked {algorithm}"

    def no_request_compression(self) -> None:
        raise Skip(self.client.cannot_compress)

    def compressed_answer_unasked(self) -> None:
        answer = self.infer(self.big())
        assert_same(answer.as_numpy(OUTPUT), self.big()["x"])
        encoding = (self.client.last_headers or {}).get("content-encoding")
        assert encoding in ("gzip", "deflate"), f"answered with Content-Encoding {encoding}"

    # -- refusals

    def unknown_model(self) -> None:
        call = functools.partial(self.client.infer, UNKNOWN_MODEL, "", {"x": tensor("FP32")}, self.outputs)
        expect_error(call, self.client, "NOT_FOUND", mentions=UNKNOWN_MODEL)

    def unknown_model_not_ready(self) -> None:
        """A client answers False, or raises the server's NOT_FOUND: either says it is not there."""
        try:
            ready = self.client.model_ready(UNKNOWN_MODEL, "")
        except Exception as exc:
            assert self.client.status(exc) == "NOT_FOUND", describe(exc)
            return
        assert ready is False, f"answered {ready!r}"

    def unknown_version(self) -> None:
        if not self.client.addresses_versions:
            raise Skip("the client cannot name a model version (kserve's InferenceRESTClient)")
        call = functools.partial(self.client.infer, self.model, UNKNOWN_VERSION, {"x": tensor("FP32")}, self.outputs)
        expect_error(call, self.client, "NOT_FOUND", mentions=UNKNOWN_VERSION)


def describe(exc: Exception) -> str:
    """The exception's type and message on one line (a gRPC error's str() is a multi-line dump)."""
    code, details = getattr(exc, "code", None), getattr(exc, "details", None)
    if callable(code) and callable(details):
        return f"{type(exc).__name__}: {code().name}: {details()}"
    return f"{type(exc).__name__}: {exc}"


def run(name: str, check: Callable[[], None]) -> dict[str, Any]:
    try:
        check()
    except Skip as reason:
        return {"check": name, "ok": True, "error": "", "skipped": str(reason)}
    except Exception as exc:  # a check fails on anything: the point is to report it
        return {"check": name, "ok": False, "error": describe(exc)}
    return {"check": name, "ok": True, "error": ""}


def main() -> int:
    job = json.load(sys.stdin)
    values = job["values"]
    DATA.update({datatype: values[datatype] for datatype in values}, BYTES=[v.encode() for v in values["BYTES"]])
    try:
        client = connect(job)
    except Exception as exc:
        results = [{"check": "connect", "ok": False, "error": describe(exc)}]
    else:
        try:
            results = [run(name, check) for name, check in Checks(client, job).plan()]
        finally:
            client.close()
    json.dump(results, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
