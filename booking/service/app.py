"""The ASGI app each worker process runs (Starlette): the look, the purchase, health, and what it runs.

    GET  /tickets    {"remaining": N}                      the look (the notes' search)
    POST /purchase   {"buyer": N}  -> 200 / 410 / 409 / 500  read then buy under the strategy (contract.py);
                     Server-Timing: arrival;desc="T" says when the whole request reached the handler
    GET  /health     {"ok": true, "worker": PID}
    GET  /run        the store, the strategy and its scope, the workers

Bad input never reaches the store: a body that is not JSON is 400, one that is larger than
MAX_BODY bytes 413 (refused by its Content-Length, or as soon as more arrives), a JSON body that is
not {"buyer": N} 422, an unknown path 404, a wrong method 405; each answer is {"error": "one line"}.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import AsyncIterator
from multiprocessing.connection import wait
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from booking.service.settings import ServeConfig
from booking.service.shop import Shop, answer, scope
from booking.strategies.contract import HEALTH, MAX_BODY, MAX_BUYER, PURCHASE, RUN, TICKETS

PATHS = f"GET {TICKETS}, POST {PURCHASE}, GET {HEALTH}, GET {RUN}"


class Refused(Exception):
    """Bad input to the service: a 4xx with a one-line reason; nothing was done."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def create_app(settings: ServeConfig) -> Starlette:
    """The app of one worker process; uvicorn calls it in each worker (a factory: nothing is shared)."""
    shop = Shop(settings)
    limiter: list[anyio.CapacityLimiter] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        shop.open()  # a store that cannot be opened stops the worker before it serves anything
        limiter.append(anyio.CapacityLimiter(settings.threads))
        _exit_with_parent()
        yield
        shop.close()

    async def purchase(request: Request) -> Response:
        buyer = _buyer(await _json_body(request))
        arrived = time.time()  # the whole request is in: when it reached the handler (Unix time)
        rec = await anyio.to_thread.run_sync(shop.buy, buyer, limiter=limiter[0])
        status, body = answer(rec, shop.worker)
        return JSONResponse(body, status_code=status, headers={"Server-Timing": f'arrival;desc="{arrived:.6f}"'})

    async def tickets(request: Request) -> Response:
        remaining = await anyio.to_thread.run_sync(shop.look, limiter=limiter[0])
        return JSONResponse({"remaining": remaining})

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "worker": shop.worker})

    async def run(request: Request) -> Response:
        info = shop.info
        return JSONResponse(
            {
                "service": "booking",
                "store": settings.store_url.display,
                "strategy": info.name,
                "scope": scope(info),
                "description": info.description,
                "workers": settings.workers,
                "threads": settings.threads,
                "think_ms": settings.think_ms,
            }
        )

    routes = [
        Route(TICKETS, tickets, methods=["GET"]),
        Route(PURCHASE, purchase, methods=["POST"]),
        Route(HEALTH, health, methods=["GET"]),
        Route(RUN, run, methods=["GET"]),
    ]
    handlers: dict[Any, Any] = {HTTPException: _http_error, Refused: _refused, Exception: _crashed}
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers=handlers)


async def _json_body(request: Request) -> Any:
    """The request's JSON (said so by its content type, in UTF-8), read no further than MAX_BODY bytes."""
    _check_json_type(request.headers.get("content-type"))
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise Refused(413, f'body larger than {MAX_BODY} bytes (a purchase is {{"buyer": N}})')
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise Refused(413, f'body larger than {MAX_BODY} bytes (a purchase is {{"buyer": N}})')
    try:  # UTF-8 only: json.loads would guess UTF-16 or UTF-32 from the bytes
        return json.loads(bytes(body).decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError):
        raise Refused(400, 'body is not JSON (a purchase is {"buyer": N})') from None


def _check_json_type(content_type: str | None) -> None:
    """415 unless the body says it is JSON (application/json or application/...+json), in UTF-8."""
    media, _, params = (content_type or "").partition(";")
    media = media.strip().lower()
    charset = next(
        (
            v.strip().strip('"').lower()
            for k, _, v in (p.partition("=") for p in params.split(";"))
            if k.strip() == "charset"
        ),
        "utf-8",
    )
    if not (media == "application/json" or (media.startswith("application/") and media.endswith("+json"))):
        said = media or "no content type"
        raise Refused(415, f'{said[:40]}: a purchase is JSON (Content-Type: application/json, {{"buyer": N}})')
    if charset not in ("utf-8", "utf8"):
        raise Refused(415, f"charset {charset[:20]}: a purchase is JSON in UTF-8")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):  # {"buyer": 1, "buyer": 2}: which one was meant?
        raise Refused(422, f"duplicate key {next(k for k in keys if keys.count(k) > 1)!r}"[:80])
    return dict(pairs)


def _buyer(data: Any) -> int:
    if not isinstance(data, dict) or set(data) != {"buyer"}:
        raise Refused(422, 'expected {"buyer": N} and nothing else')
    buyer = data["buyer"]
    if isinstance(buyer, bool) or not isinstance(buyer, int) or not 1 <= buyer <= MAX_BUYER:
        raise Refused(422, f"buyer must be a whole number from 1 to {MAX_BUYER}, got {json.dumps(buyer)[:40]}")
    return buyer


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return JSONResponse({"error": str(exc)}, status_code=exc.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        reason = f"no such path: {request.url.path[:100]} (paths: {PATHS})"
    elif exc.status_code == 405:
        reason = f"{request.method} is not allowed on {request.url.path} (paths: {PATHS})"
    else:
        reason = str(exc.detail)
    return JSONResponse({"error": reason}, status_code=exc.status_code, headers=exc.headers)


async def _crashed(request: Request, exc: Exception) -> Response:
    # A failure of the service itself (not of a purchase, which answers 500 with its reason): one line.
    return JSONResponse({"error": f"the service failed: {type(exc).__name__}: {exc}"[:300]}, status_code=500)


def _exit_with_parent() -> None:
    """A worker never outlives `booking serve`: when the parent dies (even by SIGKILL), its sentinel fires
    and the worker stops itself the way uvicorn stops on SIGTERM (an event, not a poll)."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
