"""`booking serve --http2`: the same app under Hypercorn, which speaks HTTP/2 over cleartext (h2c, with prior
knowledge) and HTTP/1.1 on the same port, so a race sent as one HTTP/2 single-packet batch can be measured
against booking's own service, arrival times and all.

Why Hypercorn: uvicorn speaks HTTP/1.1 only; Hypercorn is the ASGI server of the python-hyper h2 family
(kept by the Pallets team), with worker processes of its own. Its supervisor is replaced here by a small one,
as run.py replaces uvicorn's: every worker is spawned with the socket the parent bound and the app made by
create_app(settings) (a factory: nothing is shared), says when its start-up is done (then `ready` is said),
and on SIGINT or SIGTERM all are stopped. A worker whose parent dies stops itself (app.py).

Every request of one HTTP/2 connection is served by the one worker that accepted the connection: a
single-packet batch races inside that worker (its threads), not across workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import wait
from typing import Any

from booking.service.settings import ServeConfig

READY_TIMEOUT_S = 60.0


def run_workers(settings: ServeConfig, sock: socket.socket, keep_alive_s: float, ready: Callable[[], None]) -> bool:
    """Serve until SIGINT or SIGTERM; False when a worker stopped before the service was stopped."""
    ctx = multiprocessing.get_context("spawn")
    stop, started = ctx.Event(), ctx.Queue()
    with _ignored(signal.SIGINT):  # the workers inherit it ignored: the parent stops them (as Hypercorn's does)
        workers = [
            ctx.Process(target=_worker, args=(settings, sock, keep_alive_s, stop, started), name=f"hypercorn-{n}")
            for n in range(settings.workers)
        ]
        for worker in workers:
            worker.start()
    stopping = signal.signal(signal.SIGTERM, lambda *_: stop.set()), signal.signal(signal.SIGINT, lambda *_: stop.set())
    failed = False
    try:
        if _wait_started(workers, started, stop):
            ready()
            while not stop.is_set() and not failed:
                wait([w.sentinel for w in workers], timeout=0.2)
                failed = not stop.is_set() and not all(w.is_alive() for w in workers)  # stopping: they end
        else:
            failed = not stop.is_set()
    finally:
        signal.signal(signal.SIGTERM, stopping[0])
        signal.signal(signal.SIGINT, stopping[1])
        stop.set()
        for worker in workers:
            worker.join(10)
            if worker.is_alive():
                worker.terminate()
                worker.join()
    return not failed


def _wait_started(workers: list[Any], started: Any, stop: Any) -> bool:
    """Every worker said its start-up is done; False when one died first (its error is on stderr)."""
    count, deadline = 0, time.monotonic() + READY_TIMEOUT_S
    while count < len(workers) and not stop.is_set() and time.monotonic() < deadline:
        if not all(w.is_alive() for w in workers):
            return False
        with contextlib.suppress(Exception):  # queue.Empty: look again
            started.get(timeout=0.2)
            count += 1
    return count == len(workers)


def _worker(settings: ServeConfig, sock: socket.socket, keep_alive_s: float, stop: Any, started: Any) -> None:
    from hypercorn.asyncio.run import worker_serve
    from hypercorn.config import Config, Sockets
    from hypercorn.utils import check_multiprocess_shutdown_event, wrap_app

    from booking.service.app import create_app

    config = Config()
    config.keep_alive_timeout = keep_alive_s
    config.loglevel = "WARNING"
    config.accesslog = None
    app = wrap_app(_telling(create_app(settings), started), config.wsgi_max_body_size, "asgi")
    trigger = functools.partial(check_multiprocess_shutdown_event, stop, asyncio.sleep)
    sockets = Sockets(secure_sockets=[], insecure_sockets=[sock], quic_sockets=[])
    asyncio.run(worker_serve(app, config, sockets=sockets, shutdown_trigger=trigger))


def _telling(app: Any, started: Any) -> Any:
    """`app`, which also says (on `started`) when its lifespan start-up is complete."""

    async def told(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return

        async def sending(message: Any) -> None:
            await send(message)
            if message["type"] == "lifespan.startup.complete":
                started.put(os.getpid())

        await app(scope, receive, sending)

    return told


@contextlib.contextmanager
def _ignored(signum: int) -> Iterator[None]:
    before = signal.signal(signum, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signum, before)
