"""Microseconds per request of the wrapper's REST path in-process: HTTP parsing, the Seldon
router, the identity model and the answer's encoding, with no socket or load generator to add
their noise. Run by a venv's python (bench_wrappers.py runs it for this tree and for --baseline
alternately); prints the best of 7 runs of 20,000 pipelined requests on one connection."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from seldon_serve import http_server, rest
from seldon_serve.endpoints import Endpoints
from seldon_serve.microservice import Microservice

BODY = b'{"data": {"names": ["a", "b", "c", "d"], "ndarray": [[1.0, 2.0, 3.0, 4.0]]}}'
REQUEST = (
    b"POST /api/v1.0/predictions HTTP/1.1\r\nHost: model\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(BODY), BODY)
)
RUNS, REQUESTS = 7, 20_000


class Identity:
    def predict(self, X: Any, names: Any) -> Any:
        return X


class CountingTransport(asyncio.Transport):
    """A connection that keeps nothing but the number of answers written."""

    def __init__(self) -> None:
        super().__init__()
        self.answers = 0

    def write(self, data: Any) -> None:
        self.answers += 1

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


async def measure() -> float:
    router = rest.router(Endpoints(Microservice(Identity()), None))
    protocol = http_server.HttpProtocol(router, http_server.ServerState(1 << 20, "REST_MAX_BODY_BYTES"))
    transport = CountingTransport()
    protocol.connection_made(transport)
    runs = []
    for _ in range(RUNS):
        started = time.perf_counter()
        for _ in range(REQUESTS):
            protocol.data_received(REQUEST)
        runs.append((time.perf_counter() - started) / REQUESTS * 1e6)
    if transport.answers != RUNS * REQUESTS:
        raise SystemExit(f"{transport.answers} answers to {RUNS * REQUESTS} requests")
    return min(runs)


if __name__ == "__main__":
    print(f"{asyncio.run(measure()):.2f}")
