"""REST and gRPC throughput and latency of this project's python wrapper against Seldon Core's.

    make bench            # or: .venv/bin/python tests/benchmark/bench_wrappers.py --seconds 10

Both wrappers serve the `model` sample (identity, tests/samples/python/model) with one worker,
and so do our routers behind a bare ASGI callable on uvicorn's httptools protocol (asgi_router.py:
a maintained HTTP/1.1 implementation in place of ours, the same run),
pinned to CPU 0; the load generators run pinned to CPU 1: wrk for REST (POST
/api/v1.0/predictions) and grpcload for gRPC (seldon.protos.Model/Predict; tests/grpcload, which
sends the request's bytes as they are in HTTP/2 frames it writes itself: ghz, and then
grpc-go's client, spent more CPU a call than the servers they measured), 8 connections, a
4-float ndarray. Each row shows the CPU the server and the load generator used
(percent of one CPU over the measured seconds): a load generator near 100% is the limit, not
the server; the seconds of load before the measured run, which starts once the rate has
settled (warm_up: a JVM compiles a protocol stack it starts using for 10-15 s); and the percent
of the server's CPU the virtual machine's host took (steal): a run it took more than
STOLEN_LIMIT percent from is measured again, and the row keeps the least disturbed run.
The bare limits on the same CPU are in the same run: a grpc-go and a tonic server (the front's
HTTP/2 stack, tests/tonic-echo) echoing each call's bytes, and a bare ASGI app on uvicorn's
httptools protocol (bare_asgi.py) answering Seldon's JSON with orjson. Seldon's wrapper is
the `seldon-core` release pinned in versions.yaml, installed into .tools/seldon-venv (it needs
setuptools<70); the Open Inference Protocol's peer
is Seldon's MLServer (the `mlserver` release pinned there, .tools/mlserver-venv) serving the same
identity as a custom runtime (mlserver_identity.py) in its main process. Ours serves gRPC through the Rust
front (wrappers/grpc-front, on the same CPU) as the images do, and once more with grpc.aio in
the worker for comparison. Then each family's identity sample, built with s2i from its default
builder image, runs as a container the same way (host network, CPU 0) with PROTOCOL=both: R
and Java next to Python show what each language costs, how long each takes from `docker run`
to its first answer, and the Open Inference Protocol (POST /v2/models/identity/infer and
inference.GRPCInferenceService/ModelInfer, the same four floats as one FP64 tensor) next to
the Seldon protocol on the same server, and its REST with a [1, 4] and a [64, 256] FP32 tensor
sent as JSON and as the binary tensor extension (answered in kind). A row with OpenTelemetry
tracing on (every request sampled, exported over OTLP/HTTP to a local OpenTelemetry Collector on
the load's CPU) shows what tracing costs; with --baseline REF, the wrapper and its gRPC front as
they were at git REF are measured in the same run (a before/after of a change), and so is the R
image's identity with its R bridge (seldon_serve_r) as it was at REF mounted over its own. Writes
reports/benchmark.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from s2ibuilders import config, tools  # noqa: E402

SAMPLE = ROOT / "tests" / "samples" / "python" / "model"
PROTO_DIR = ROOT / "wrappers" / "proto"
BODY = {"data": {"names": ["a", "b", "c", "d"], "ndarray": [[1.0, 2.0, 3.0, 4.0]]}}
SELDON_PATH = "/api/v1.0/predictions"
V2_MODEL = "identity"  # the images' model name for the Open Inference Protocol (MODEL_METADATA)
V2_PATH = f"/v2/models/{V2_MODEL}/infer"
V2_BODY = {"inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 4], "data": [1.0, 2.0, 3.0, 4.0]}]}
V2_NAMED = {"MODEL_METADATA": json.dumps({"name": V2_MODEL})}  # as the images' runs name it
SELDON_CALL = ("prediction.proto", "seldon.protos.Model/Predict", BODY)
V2_CALL = (
    "open_inference.proto",
    "inference.GRPCInferenceService/ModelInfer",
    {
        "model_name": V2_MODEL,
        "inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 4], "contents": {"fp64_contents": [1, 2, 3, 4]}}],
    },
)
SERVER_CPU, LOAD_CPU = "0", "1"
CONNECTIONS = 8
# The spark image serves the python wrapper's identity like the python image; what it adds, a
# Spark pipeline's single-row latency, is bench_spark.py's.
MEASURED_ELSEWHERE = {"spark"}
# Load before each measured run, in windows of WARM_UP_WINDOW seconds, until two windows in a row
# agree within WARM_UP_SETTLED (at most WARM_UP_MAX seconds): a JVM on one CPU compiles a newly
# used protocol stack for 10-15 s (Java's first gRPC row after REST ran at half its steady rate
# after a fixed 5 s), while the python servers settle in the first window.
WARM_UP_WINDOW = 3
WARM_UP_SETTLED = 0.05
WARM_UP_MAX = 30
# A virtual machine's CPU can be taken by its host ("steal" in /proc/stat): a run in which the
# host took more than STOLEN_LIMIT percent of the server's CPU measures the host, not the server
# (the server then idles at 40-60% with a p99 of 12 ms). Such a run is measured again, at most
# STOLEN_RERUNS times; the row keeps the run the host took least from, and shows how much that was.
STOLEN_LIMIT = 5.0
STOLEN_RERUNS = 2


@dataclass
class Result:
    wrapper: str
    protocol: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    server_cpu: float = float("nan")  # percent of one CPU over the measured seconds
    load_cpu: float = float("nan")
    warm_up_s: float = float("nan")  # seconds of load before the rate settled (warm_up)
    stolen: float = float("nan")  # percent of the server's CPU the host took (STOLEN_LIMIT)
    runs: int = 1  # measured runs, the first and its re-runs


# What a load generator's run gives a Result: req/s, p50 and p99 ms, errors, server and load CPU %,
# warm-up seconds, the percent of the server's CPU its host took, the runs measured.
Measured = tuple[float, float, float, int, float, float, float, float, int]

# The CPU seconds a server has used so far (all its processes): read before and after a run.
ServerCpu = Callable[[], float]
_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pids: Iterable[int]) -> float:
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):  # a process that has just exited
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / _TICKS


def group_cpu(process: subprocess.Popen[bytes]) -> ServerCpu:
    """A server started by start(): every process of its process group."""

    def seconds() -> float:
        members = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int(stat.read_text().rpartition(")")[2].split()[2]) == process.pid:  # pgrp
                    members.append(int(stat.parent.name))
        return _cpu_seconds(members)

    return seconds


def container_cpu(container: str) -> ServerCpu:
    """A container's processes, as the host sees them."""

    def seconds() -> float:
        top = subprocess.run(["docker", "top", container, "-o", "pid"], capture_output=True, text=True, check=True)
        return _cpu_seconds(int(line) for line in top.stdout.split()[1:])

    return seconds


class Metered:
    """The CPU the server and this process's children (the load generator) use inside the block,
    as percent of one CPU: a load generator near 100% is saturated; and the percent of the
    server's CPU its host took (steal)."""

    def __init__(self, server: ServerCpu | None) -> None:
        self.server = server
        self.shares = (float("nan"), float("nan"))
        self.stolen = float("nan")

    def __enter__(self) -> Metered:
        self.started = time.monotonic()
        self.server_before = self.server() if self.server else 0.0
        self.load_before = _children_cpu()
        self.ticks_before = _cpu_ticks(SERVER_CPU)
        return self

    def __exit__(self, *_: object) -> None:
        wall = time.monotonic() - self.started
        server = (self.server() - self.server_before) / wall * 100 if self.server else float("nan")
        self.shares = (server, (_children_cpu() - self.load_before) / wall * 100)
        ticks = [after - before for before, after in zip(self.ticks_before, _cpu_ticks(SERVER_CPU), strict=True)]
        self.stolen = ticks[_STEAL] / sum(ticks) * 100 if sum(ticks) else float("nan")


_STEAL = 7  # user nice system idle iowait irq softirq steal ... (proc(5))


def _cpu_ticks(cpu: str) -> list[int]:
    """The ticks /proc/stat has counted for one CPU, by state."""
    for line in Path("/proc/stat").read_text().splitlines():
        name, *ticks = line.split()
        if name == f"cpu{cpu}":
            return [int(tick) for tick in ticks]
    raise RuntimeError(f"/proc/stat has no cpu{cpu}")


def least_stolen(run: Callable[[], Any], server: ServerCpu | None) -> tuple[Any, Metered, int]:
    """run() measured (Metered), and again while its host took more than STOLEN_LIMIT percent
    of the server's CPU, at most STOLEN_RERUNS times: the run the host took least from, its
    meter, and how many runs there were."""
    measured: list[tuple[Any, Metered]] = []
    while len(measured) <= STOLEN_RERUNS:
        with Metered(server) as metered:
            measured.append((run(), metered))
        if not metered.stolen > STOLEN_LIMIT:  # NaN (no ticks counted) too
            break
    out, metered = min(measured, key=lambda each: each[1].stolen)
    return out, metered, len(measured)


def warm_up(rate: Callable[[int], float]) -> float:
    """Loads the server with `rate` (one run of that many seconds, its req/s) until two windows
    in a row agree: the seconds it took, which the report shows."""
    previous, spent = rate(WARM_UP_WINDOW), WARM_UP_WINDOW
    while spent < WARM_UP_MAX:
        current = rate(WARM_UP_WINDOW)
        spent += WARM_UP_WINDOW
        if abs(current - previous) <= WARM_UP_SETTLED * previous:
            break
        previous = current
    return spent


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ensure_wrk() -> str:
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL)
    return "wrk"


def wrapper_command(executable: Path, extra: list[str], http: int) -> list[str]:
    """A Seldon wrapper's command line (ours or Seldon's): one worker, REST on http, gRPC and
    metrics on the next two ports."""
    cmd = [str(executable), "MyModel", "--service-type", "MODEL", "--workers", "1", "--log-level", "WARNING"]
    return [*cmd, "--http-port", str(http), "--grpc-port", str(http + 1), "--metrics-port", str(http + 2), *extra]


def uvicorn_command(http: int, app: str = "asgi_router:app") -> list[str]:
    """The wrapper's routers behind a bare ASGI callable (asgi_router.py) on uvicorn's httptools
    protocol and uvloop: a maintained HTTP/1.1 implementation in place of ours (or another app)."""
    app_dir = str(Path(__file__).resolve().parent)
    cmd = [sys.executable, "-m", "uvicorn", "--app-dir", app_dir, app, "--port", str(http)]
    return [*cmd, "--http", "httptools", "--loop", "uvloop", "--log-level", "warning", "--no-access-log"]


def start(
    cmd: list[str],
    env: dict[str, str],
    http: int,
    probe: tuple[str, dict[str, Any]] = (SELDON_PATH, BODY),
    cwd: Path = SAMPLE,
) -> subprocess.Popen[bytes]:
    """cmd on the server's CPU, in the sample's folder (or cwd), once it answers the probe's
    request (path, body: a Seldon prediction unless told) on http."""
    # Logs go to a file: an unread pipe fills up, and a server writing to it stalls or fails.
    log_file = tempfile.NamedTemporaryFile(prefix=f"bench-{http}-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        ["taskset", "-c", SERVER_CPU, *cmd],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so stop() ends every child it forks
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{cmd[0]} exited: {Path(log_file.name).read_text()[-2000:]}")
        try:
            if requests.post(f"http://127.0.0.1:{http}{probe[0]}", json=probe[1], timeout=1).ok:
                time.sleep(1)  # let gRPC (a separate process in Seldon's wrapper) come up too
                return process
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{cmd[0]} did not answer on :{http}")


def stop(process: subprocess.Popen[bytes]) -> None:
    # Seldon's wrapper forks gunicorn and gRPC children, which outlive their parent: end the group.
    group = os.getpgid(process.pid)
    os.killpg(group, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)


# A request wrk sends: its body and headers.
RawRequest = tuple[bytes, dict[str, str]]


def v2_tensor_requests() -> dict[str, RawRequest]:
    """The Open Inference Protocol's REST with a [1, 4] and a [64, 256] FP32 tensor, each as JSON
    and in the binary tensor extension (the answer asked for in binary too), by row name."""
    found = {}
    for rows, columns in ((1, 4), (64, 256)):
        values = [(i % 97) / 8 for i in range(rows * columns)]
        tensor = {"name": "x", "datatype": "FP32", "shape": [rows, columns]}
        as_json = json.dumps({"inputs": [{**tensor, "data": values}]}).encode()
        found[f"v2 REST, JSON [{rows},{columns}] FP32"] = (as_json, {"Content-Type": "application/json"})
        contents = struct.pack(f"<{len(values)}f", *values)
        binary_tensor = {**tensor, "parameters": {"binary_data_size": len(contents)}}
        head = json.dumps({"inputs": [binary_tensor], "parameters": {"binary_data_output": True}}).encode()
        headers = {"Inference-Header-Content-Length": str(len(head)), "Content-Type": "application/octet-stream"}
        found[f"v2 REST, binary [{rows},{columns}] FP32"] = (head + contents, headers)
    return found


def lua_string(data: bytes) -> str:
    """data as a Lua string literal: any byte but printable ASCII as a three-digit escape."""
    printable = {*range(0x20, 0x7F)} - {ord('"'), ord("\\")}
    return '"' + "".join(chr(b) if b in printable else f"\\{b:03d}" for b in data) + '"'


def wrk(
    port: int,
    seconds: int,
    request: dict[str, Any] | RawRequest = BODY,
    connections: int = CONNECTIONS,
    path: str = SELDON_PATH,
    server: ServerCpu | None = None,
) -> Measured:
    body, headers = (
        (json.dumps(request).encode(), {"Content-Type": "application/json"}) if isinstance(request, dict) else request
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f'wrk.method = "POST"\nwrk.body = {lua_string(body)}\n')
        script.write("".join(f'wrk.headers["{name}"] = "{value}"\n' for name, value in headers.items()))
    url = f"http://127.0.0.1:{port}{path}"
    base = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{connections}", "--latency", "-s", script.name]

    def run(seconds: int) -> str:
        return subprocess.run([*base, f"-d{seconds}s", url], capture_output=True, text=True, check=True).stdout

    warmed = warm_up(lambda seconds: _wrk_rps(run(seconds)))
    out, metered, runs = least_stolen(lambda: run(seconds), server)
    os.unlink(script.name)
    rps = _wrk_rps(out)
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return rps, _wrk_ms(out, "50%"), _wrk_ms(out, "99%"), errors, *metered.shares, warmed, metered.stolen, runs


def _wrk_rps(out: str) -> float:
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


def _wrk_ms(out: str, percentile: str) -> float:
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def grpc_message(call: tuple[str, str, dict[str, Any]]) -> Path:
    """The call's request message, as protobuf bytes in a file (grpcload sends them as they are)."""
    from google.protobuf import json_format

    from seldon_serve.proto import open_inference_pb2, prediction_pb2

    proto, _, request = call
    message = prediction_pb2.SeldonMessage() if proto == "prediction.proto" else open_inference_pb2.ModelInferRequest()
    with tempfile.NamedTemporaryFile(prefix="bench-grpc-", suffix=".bin", delete=False) as out:
        out.write(json_format.ParseDict(request, message).SerializeToString())
    return Path(out.name)


def grpc_load(
    binary: Path,
    port: int,
    seconds: int,
    call: tuple[str, str, dict[str, Any]] = SELDON_CALL,
    server: ServerCpu | None = None,
) -> Measured:
    message = grpc_message(call)
    base = [
        "taskset", "-c", LOAD_CPU, str(binary), "-target", f"127.0.0.1:{port}", "-method", "/" + call[1],
        "-message", str(message), "-connections", str(CONNECTIONS), "-callers", str(CONNECTIONS), "-warm-up", "0s",
    ]  # fmt: skip

    def run(seconds: int) -> dict[str, Any]:
        return json.loads(subprocess.run([*base, "-duration", f"{seconds}s"], capture_output=True, check=True).stdout)

    warmed = warm_up(lambda seconds: run(seconds)["rps"])
    report, metered, runs = least_stolen(lambda: run(seconds), server)
    message.unlink()
    errors = sum(count for code, count in report["codes"].items() if code != "OK")
    if errors:
        print(f"gRPC errors on :{port}: {report['codes']} {report.get('first_error')}", file=sys.stderr)
    rates = report["rps"], report["p50_ms"], report["p99_ms"], errors  # successful calls only
    return *rates, *metered.shares, warmed, metered.stolen, runs


def measure(
    name: str,
    executable: Path,
    extra: list[str],
    env: dict[str, str],
    protocols: tuple[str, ...],
    ports: int,
    args: Any,
) -> list[Result]:
    """A fresh server for each protocol, so that one run cannot disturb the next (Seldon's
    gRPC calls fail with broken pipes once its REST side has been loaded)."""
    results = []
    for offset, protocol in enumerate(protocols):
        http = ports + 10 * offset
        process = start(wrapper_command(executable, extra, http), env, http)
        server = group_cpu(process)
        try:
            results.append(load(name, protocol, http, args, server))
            if protocol == "v2 REST":
                results += measure_v2_tensors(name, http, args, server)
        finally:
            stop(process)
    return results


def load(name: str, protocol: str, http: int, args: Any, server: ServerCpu) -> Result:
    """One run of the identity request in `protocol` (REST, gRPC, v2 REST, v2 gRPC) against a
    server with REST on http and gRPC on the next port."""
    if protocol == "REST":
        return Result(name, protocol, *wrk(http, args.seconds, server=server))
    if protocol == "v2 REST":
        return Result(name, protocol, *wrk(http, args.seconds, V2_BODY, path=V2_PATH, server=server))
    call = V2_CALL if protocol == "v2 gRPC" else SELDON_CALL
    return Result(name, protocol, *grpc_load(args.grpcload, http + 1, args.seconds, call, server=server))


def measure_mlserver(version: str, ports: int, args: Any) -> list[Result]:
    """Seldon's MLServer serving the identity model (mlserver_identity.py) in its main process
    (parallel_workers 0, as ours serves in its one worker): the Open Inference Protocol's peer,
    REST and gRPC."""
    mlserver = tools.ensure_mlserver(version) / "bin" / "mlserver"
    name = f"mlserver {version}"
    results = []
    for offset, protocol in enumerate(("v2 REST", "v2 gRPC")):
        http = ports + 10 * offset
        with tempfile.TemporaryDirectory(prefix="bench-mlserver-") as folder:
            shutil.copy(Path(__file__).resolve().with_name("mlserver_identity.py"), folder)
            settings = {"http_port": http, "grpc_port": http + 1, "metrics_port": http + 2, "parallel_workers": 0}
            (Path(folder) / "settings.json").write_text(json.dumps(settings))
            model = {"name": V2_MODEL, "implementation": "mlserver_identity.Identity"}
            (Path(folder) / "model-settings.json").write_text(json.dumps(model))
            process = start([str(mlserver), "start", folder], {}, http, probe=(V2_PATH, V2_BODY), cwd=Path(folder))
            try:
                results.append(load(name, protocol, http, args, group_cpu(process)))
            finally:
                stop(process)
    return results


@contextlib.contextmanager
def running_collector() -> Iterator[str]:
    """The tracing tests' OpenTelemetry Collector (OTLP in, a file out) on the load generator's
    CPU: the OTLP/HTTP endpoint a traced server exports every span to."""
    binary = tools.ensure_collector(ROOT / "tests" / "collector")
    with tempfile.TemporaryDirectory(prefix="bench-collector-") as folder:
        config = Path(folder) / "collector.json"
        pipeline = {"traces": {"receivers": ["otlp"], "exporters": ["file"]}}
        config.write_text(
            json.dumps(
                {
                    "receivers": {"otlp": {"protocols": {"http": {"endpoint": "127.0.0.1:19190"}}}},
                    "exporters": {"file": {"path": f"{folder}/spans.jsonl"}},
                    "service": {"telemetry": {"metrics": {"level": "none"}}, "pipelines": pipeline},
                }
            )
        )
        command = ["taskset", "-c", LOAD_CPU, str(binary), "--config", str(config)]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(1)
            yield "http://127.0.0.1:19190"
        finally:
            process.terminate()
            process.wait(timeout=10)


def baseline_wrapper(ref: str) -> Path:
    """The python wrapper as it was at git `ref`, in a venv of its own with the very versions of
    its dependencies this venv has: its seldon-core-microservice."""
    sha = short_sha(ref)
    venv = tools.TOOLS_DIR / f"bench-baseline-{sha}"
    executable = venv / "bin" / "seldon-core-microservice"
    if executable.exists():
        return executable
    print(f"installing the wrapper at {ref} ({sha}) into {venv}")
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable", "--exclude", "seldon-serve"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as folder:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", sha, "versions.yaml", "wrappers/proto", "wrappers/python"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        constraints = Path(folder) / "constraints.txt"
        constraints.write_text("\n".join(line for line in frozen.splitlines() if " @ " not in line) + "\n")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = [str(venv / "bin" / "pip"), "install", "--quiet", "-c", str(constraints)]
        subprocess.run([*pip, f"{folder}/wrappers/python"], check=True)
    return executable


def baseline_front(ref: str) -> Path:
    """The gRPC front as it was at git `ref` (the link to the workers is the pair's own protocol)."""
    sha = short_sha(ref)
    with tempfile.TemporaryDirectory(prefix="bench-baseline-front-") as folder:
        extract(sha, "wrappers/grpc-front", folder)
        return tools.build_grpc_front(
            Path(folder) / "wrappers" / "grpc-front", output=tools.TOOLS_DIR / f"bench-baseline-{sha}" / "grpc-front"
        )


def baseline_r_package(ref: str) -> Path:
    """seldon_serve_r (the R bridge, seldon.R with it) as it was at git `ref`: mounted over the R
    image's own, the same container measures the bridge before and after, all else equal."""
    sha = short_sha(ref)
    folder = tools.TOOLS_DIR / f"bench-baseline-{sha}" / "r"
    if not folder.exists():
        extract(sha, "wrappers/r/seldon_serve_r", folder)
    return folder / "wrappers" / "r" / "seldon_serve_r"


def short_sha(ref: str) -> str:
    revision = ["git", "-C", str(ROOT), "rev-parse", "--short", f"{ref}^{{commit}}"]
    return subprocess.run(revision, check=True, capture_output=True, text=True).stdout.strip()


def extract(sha: str, path: str, folder: str | Path) -> None:
    """`path` of the tree at `sha` under `folder`."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", sha, path], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)


def request_path_us(executables: dict[str, Path], rounds: int = 3) -> dict[str, dict[str, list[float]]]:
    """request_path.py's microseconds per request of each path under each wrapper's python, on
    the server's CPU, alternately (so that a slower minute of the machine hits both)."""
    script = Path(__file__).resolve().with_name("request_path.py")
    found: dict[str, dict[str, list[float]]] = {name: {} for name in executables}
    for _ in range(rounds):
        for name, executable in executables.items():
            python = executable.with_name("python")
            command = ["taskset", "-c", SERVER_CPU, str(python), str(script)]
            for line in subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines():
                path, us = line.split()
                found[name].setdefault(path, []).append(float(us))
    return found


def request_path_table(found: dict[str, dict[str, list[float]]]) -> str:
    paths = list(next(iter(found.values())))
    lines = [
        "| python wrapper | " + " | ".join(f"us per {path.replace('-', ' ')} in-process" for path in paths) + " |",
        "|---|" + "---|" * len(paths),
    ]
    for name, runs in found.items():
        lines.append(f"| {name} | " + " | ".join(", ".join(f"{us:.2f}" for us in runs[path]) for path in paths) + " |")
    return "\n".join(lines) + "\n\nBest of 7 runs each, alternating rounds (tests/benchmark/request_path.py)."


def measure_uvicorn(version: str, ports: int, args: Any) -> list[Result]:
    """The same routers and model on uvicorn: Seldon's and the Open Inference Protocol's REST."""
    tools.ensure_in_this_venv("uvicorn", version)
    name = f"seldon_serve routers on uvicorn {version}"
    process = start(uvicorn_command(ports), V2_NAMED, ports)
    server = group_cpu(process)
    try:
        return [
            Result(name, "REST", *wrk(ports, args.seconds, server=server)),
            Result(name, "v2 REST", *wrk(ports, args.seconds, V2_BODY, path=V2_PATH, server=server)),
        ]
    finally:
        stop(process)


def measure_bare_limits(uvicorn_version: str, ports: int, args: Any) -> list[Result]:
    """What a server does at the least on the same CPU: a bare ASGI app on uvicorn answering
    Seldon's JSON (bare_asgi.py), and a grpc-go and a tonic server echoing each call's bytes
    (grpcload -echo, tests/tonic-echo: the HTTP/2 stacks of the front before and now)."""
    tools.ensure_in_this_venv("uvicorn", uvicorn_version)
    bare = start(uvicorn_command(ports, "bare_asgi:app"), {}, ports)
    try:
        results = [
            Result(
                f"bare ASGI app on uvicorn {uvicorn_version}", "REST", *wrk(ports, args.seconds, server=group_cpu(bare))
            )
        ]
    finally:
        stop(bare)
    address = f"127.0.0.1:{ports + 1}"
    echoes = {
        "bare grpc-go echo": [str(args.grpcload), "-echo", address],
        "bare tonic echo (the front's HTTP/2 stack)": [str(args.tonic_echo), address],
    }
    for name, command in echoes.items():
        echo = subprocess.Popen(["taskset", "-c", SERVER_CPU, *command], start_new_session=True)
        try:
            time.sleep(0.5)
            results.append(
                Result(name, "gRPC", *grpc_load(args.grpcload, ports + 1, args.seconds, server=group_cpu(echo)))
            )
        finally:
            stop(echo)
    return results


def s2i_build(cfg: config.Config, source: Path, builder: str, image: str) -> None:
    s2i = tools.ensure_s2i(cfg.tools["s2i"])
    command = [str(s2i), "build", str(source), builder, image, "--pull-policy", "never"]
    subprocess.run(command, check=True, capture_output=True)


def family_images(cfg: config.Config) -> dict[str, str]:
    """every_family_image() but for the families MEASURED_ELSEWHERE."""
    return every_family_image(cfg, [name for name in cfg.families if name not in MEASURED_ELSEWHERE])


def every_family_image(cfg: config.Config, families: list[str] | None = None) -> dict[str, str]:
    """Each family's `model` sample (identity; the spark image builds the python one) built with
    s2i from its default builder image; only those of `families` when given (fuzz and soak's
    --family). Fuzz and soak take the spark image too: they judge the image, not the wrapper."""
    images = {}
    for family in cfg.families.values():
        if families and family.name not in families:
            continue
        cell = family.versions[family.default_version]
        image = f"bench/{family.name}-model:{cell.version}"
        s2i_build(cfg, ROOT / "tests" / "samples" / family.contract_samples / "model", cell.reference, image)
        images[f"{family.name} {cell.version} image"] = image
    return images


def with_baseline_r_bridge(images: dict[str, str], ref: str) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """images, with the R image once more right after itself, its R bridge as it was at `ref`."""
    bridge = baseline_r_package(ref)
    extended: dict[str, str] = {}
    docker_args: dict[str, tuple[str, ...]] = {}
    for name, image in images.items():
        extended[name] = image
        if name.startswith("r "):
            installed = subprocess.run(
                ["docker", "run", "--rm", "--entrypoint", "python", image, "-c",
                 "import os, seldon_serve_r; print(os.path.dirname(seldon_serve_r.__file__))"],
                check=True, capture_output=True, text=True,
            ).stdout.strip()  # fmt: skip
            baseline = f"{name}, seldon_serve_r at {ref}"
            extended[baseline] = image
            docker_args[baseline] = ("-v", f"{bridge}:{installed}:ro")
    return extended, docker_args


def write_report(name: str, text: str) -> None:
    out = ROOT / "reports" / name
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)
    print(text)


def start_container(
    image: str,
    http: int,
    grpc: int,
    metrics: int,
    env: dict[str, str] | None = None,
    request: dict[str, Any] = BODY,
    docker_args: tuple[str, ...] = (),
) -> tuple[str, float]:
    """The model image on the host's network (no port proxy in the way), pinned like the host runs;
    and the seconds from `docker run` to its first answer."""
    ports = {"HTTP": http, "GRPC": grpc, "METRICS": metrics}
    settings = [f"-ePREDICTIVE_UNIT_{name}_SERVICE_PORT={port}" for name, port in ports.items()]
    settings += [f"-e{name}={value}" for name, value in (env or {}).items()]
    command = ["docker", "run", "-d", "--rm", "--network", "host", "--cpuset-cpus", SERVER_CPU, *settings, *docker_args]
    started = time.monotonic()
    container = subprocess.run(
        [*command, "-eGUNICORN_WORKERS=1", "-eLOG_LEVEL=WARNING", image], check=True, capture_output=True, text=True
    ).stdout.strip()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            # A first answer may take seconds (a Spark job on a cold JVM): wait for it.
            if requests.post(f"http://127.0.0.1:{http}/api/v1.0/predictions", json=request, timeout=30).ok:
                ready = time.monotonic() - started
                time.sleep(1)
                return container, ready
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    subprocess.run(["docker", "rm", "-f", container], check=False, capture_output=True)
    raise RuntimeError(f"{image} did not answer on :{http}")


def measure_v2_tensors(name: str, http: int, args: Any, server: ServerCpu) -> list[Result]:
    """The v2 REST rows of v2_tensor_requests(), JSON next to binary, against a running server."""
    return [
        Result(name, row, *wrk(http, args.seconds, request, path=V2_PATH, server=server))
        for row, request in v2_tensor_requests().items()
    ]


# What each image is measured in, one after the other against the same container.
IMAGE_PROTOCOLS = ("REST", "gRPC", "v2 REST", "v2 gRPC")


def measure_images(
    images: dict[str, str], args: Any, ports: int, startup: dict[str, float], docker_args: dict[str, tuple[str, ...]]
) -> list[Result]:
    """Each image serving both protocols: the Seldon protocol's and the Open Inference Protocol's
    REST and gRPC, measured one after the other against the same container (run with
    docker_args[name], when given)."""
    results = []
    env = {"PROTOCOL": "both", "MODEL_METADATA": json.dumps({"name": V2_MODEL})}
    for offset, (name, image) in enumerate(images.items()):
        http = ports + 10 * offset
        container, startup[name] = start_container(
            image, http, http + 1, http + 2, env=env, docker_args=docker_args.get(name, ())
        )
        server = container_cpu(container)
        try:
            results += [load(name, protocol, http, args, server) for protocol in IMAGE_PROTOCOLS]
            results += measure_v2_tensors(name, http, args, server)
        finally:
            subprocess.run(["docker", "rm", "-f", container], check=False, capture_output=True)
    return results


def table(results: list[Result], seldon_version: str) -> str:
    """One row per run: req/s and its ratio to Seldon's wrapper (same transport), to MLServer (the
    same v2 protocol) and, for gRPC, to the same server's REST; latency; the CPU the server and
    the load generator used; the seconds of load before the server's rate settled; how much of
    the server's CPU the host took (and the runs, when the row was measured again)."""
    peer = {r.protocol: r for r in results if r.wrapper == "seldon-core"}
    v2_peer = {r.protocol: r for r in results if r.wrapper.startswith("mlserver")}
    own_rest = {(r.wrapper, r.protocol): r.rps for r in results if r.protocol in ("REST", "v2 REST")}
    lines = [
        "| wrapper | protocol | req/s | vs Seldon | vs MLServer | gRPC vs its REST | p50 ms | p99 ms | errors "
        "| server CPU % | load CPU % | warm-up s | stolen % |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        transport = r.protocol.removeprefix("v2 ")  # Seldon Core 1's wrapper has no v2: its own protocol
        ratio = f"{r.rps / peer[transport].rps:.1f}x" if transport in peer else ""
        v2_ratio = f"{r.rps / v2_peer[r.protocol].rps:.1f}x" if r.protocol in v2_peer else ""
        rest = own_rest.get((r.wrapper, r.protocol.replace("gRPC", "REST"))) if "gRPC" in r.protocol else None
        versus_rest = f"{r.rps / rest:.2f}x" if rest else ""
        name = f"seldon-core {seldon_version}" if r.wrapper == "seldon-core" else r.wrapper
        lines.append(
            f"| {name} | {r.protocol} | {r.rps:,.0f} | {ratio} | {v2_ratio} | {versus_rest} "
            f"| {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors} | {_whole(r.server_cpu)} | {_whole(r.load_cpu)} "
            f"| {_whole(r.warm_up_s)} | {_stolen(r)} |"
        )
    return "\n".join(lines)


def _stolen(result: Result) -> str:
    """The host's share of the server's CPU in the kept run, and the runs when it was re-run."""
    return _whole(result.stolen) + (f" ({result.runs} runs)" if result.runs > 1 else "")


def _whole(value: float) -> str:
    return "" if value != value else f"{value:.0f}"  # NaN: not measured


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--seconds",
        type=int,
        default=10,
        help=f"measured seconds per run (after warm-up: until the rate settles, at most {WARM_UP_MAX} s)",
    )
    parser.add_argument("--no-images", action="store_true", help="skip the families' model images (needs Docker)")
    parser.add_argument(
        "--baseline", metavar="REF", help="also measure the python wrapper and the R bridge as they were at git REF"
    )
    args = parser.parse_args()
    if (os.cpu_count() or 1) < 2:
        raise SystemExit("the benchmark pins server and load generator to different CPUs: it needs 2")
    cfg = config.load(ROOT / "versions.yaml")
    seldon_version = cfg.tools["seldon-core"]
    args.grpcload = tools.ensure_grpcload(ROOT / "tests" / "grpcload")
    args.tonic_echo = tools.build_tonic_echo(ROOT / "tests" / "tonic-echo")
    front = tools.build_grpc_front(ROOT / "wrappers" / "grpc-front")
    ensure_wrk()
    ours = Path(sys.executable).with_name("seldon-core-microservice")
    theirs = tools.ensure_seldon_core(seldon_version) / "bin" / "seldon-core-microservice"
    both = ("REST", "gRPC")
    results = measure("seldon_serve (this repo)", ours, [], {"SELDON_GRPC_FRONT": str(front)}, both, 19100, args)
    results += measure(
        "seldon_serve (this repo)", ours, ["--protocol", "both"], {**V2_NAMED, "SELDON_GRPC_FRONT": str(front)},
        ("v2 REST", "v2 gRPC"), 19130, args,
    )  # fmt: skip
    if args.baseline:
        before = baseline_wrapper(args.baseline)
        front_env = {"SELDON_GRPC_FRONT": str(baseline_front(args.baseline))}
        results += measure(f"seldon_serve at {args.baseline}", before, [], front_env, both, 19180, args)
    results += measure_uvicorn(cfg.tools["uvicorn"], 19140, args)
    results += measure_bare_limits(cfg.tools["uvicorn"], 19150, args)
    with running_collector() as endpoint:
        traced = {"SELDON_GRPC_FRONT": str(front), "TRACING": "1", "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}
        results += measure("seldon_serve, tracing on (every request)", ours, [], traced, both, 19170, args)
    results += measure(
        "seldon_serve, grpc.aio in the worker", ours, [], {"SELDON_GRPC_FRONT": "off"}, ("gRPC",), 19160, args
    )
    results += measure("seldon-core", theirs, ["--grpc-workers", "1"], {}, both, 19200, args)
    results += measure_mlserver(cfg.tools["mlserver"], 19230, args)
    startup: dict[str, float] = {}
    if not args.no_images:
        images, docker_args = family_images(cfg), {}
        if args.baseline:
            images, docker_args = with_baseline_r_bridge(images, args.baseline)
        results += measure_images(images, args, 19300, startup, docker_args)
    report = table(results, seldon_version)
    if args.baseline:
        report += "\n\n" + request_path_table(request_path_us({"this tree": ours, args.baseline: before}))
    if startup:
        report += "\n\n| image | seconds from `docker run` to the first answer |\n|---|---:|\n"
        report += "\n".join(f"| {name} | {seconds:.2f} |" for name, seconds in startup.items())
    header = (
        f"identity model, 4-float ndarray, {CONNECTIONS} connections, one worker on CPU {SERVER_CPU}, "
        f"load on CPU {LOAD_CPU}, {args.seconds} s per run, Python {sys.version.split()[0]}"
    )
    out = ROOT / "reports" / "benchmark.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(f"{header}\n\n{report}\n")
    print(header + "\n\n" + report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
