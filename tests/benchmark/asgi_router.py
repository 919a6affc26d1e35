"""The wrapper's Seldon and v2 routers behind a bare ASGI callable, for uvicorn: `make bench`
serves the same model through this and through the wrapper's own HTTP/1.1 transport
(seldon_serve.http_server) in the same run, so the table shows what a maintained protocol
implementation (uvicorn's httptools protocol, on uvloop) would give instead of ours.

    cd tests/samples/python/model && uvicorn --app-dir <this folder> asgi_router:app --http httptools

The model is MODEL_NAME (default MyModel) in the working directory, loaded once at import.
"""

from __future__ import annotations

import os
from typing import Any

from seldon_serve import __version__, cli, endpoints, rest, settings
from seldon_serve.http_server import Request

_CONFIG = settings.from_args([os.environ.get("MODEL_NAME", "MyModel"), "--workers", "1"])
_ROUTER = rest.router(endpoints.for_protocol(cli.load_service(_CONFIG), "both", __version__))
_MAX_BODY = _CONFIG.max_body_bytes


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":  # lifespan: nothing to start or stop
        return
    body, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= _MAX_BODY:
            body.append(chunk)
        if not message.get("more_body"):
            break
    headers = {name: value for name, value in scope["headers"] if name in _ROUTER.headers}
    too_large = f"request body over {_MAX_BODY} bytes (REST_MAX_BODY_BYTES)" if size > _MAX_BODY else ""
    request = Request(
        scope["method"].encode(), scope["raw_path"], scope["query_string"] or None, headers, b"".join(body), too_large
    )
    response = _ROUTER(request)
    extra = [(name.lower(), value) for name, value in response.headers]
    start = {"type": "http.response.start", "status": response.status}
    start["headers"] = [(b"content-type", response.content_type), *extra]
    await send(start)
    await send({"type": "http.response.body", "body": response.body})
