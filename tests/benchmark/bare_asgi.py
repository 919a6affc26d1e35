"""The least a Python REST server can do for Seldon's predict: a bare ASGI callable on uvicorn's
httptools protocol that reads the body, parses it with orjson and answers its data back with a
new puid, without any of the wrapper. `make bench` measures it on the same CPU as the wrapper,
as the limit a Python HTTP/1.1 server reaches here.

    uvicorn --app-dir <this folder> bare_asgi:app --http httptools --loop uvloop
"""

from __future__ import annotations

import os
from typing import Any

import orjson

_HEADERS = [(b"content-type", b"application/json")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":  # lifespan: nothing to start or stop
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    answer = {"data": orjson.loads(body)["data"], "meta": {"puid": os.urandom(16).hex()}}
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": orjson.dumps(answer)})
