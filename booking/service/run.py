"""`booking serve`: seed the store once, bind the port, then uvicorn's worker processes serve the app.

Why Starlette and uvicorn: Starlette is the small ASGI toolkit FastAPI is built on (routing, requests,
JSON responses, exception handlers, lifespan; nothing more), and uvicorn is the ASGI server most
Python services run in production, with a supervisor of real worker processes (`--workers N`): the
setting whose race this lab shows. Both are kept by the Encode team and are an extra of booking
(`booking-race-lab[service]`), imported only here.

The parent binds the socket itself (port 0 then names a free port, and a port in use is a one-line
error, exit 3) and hands it to uvicorn's supervisor, which starts the workers (spawned: each imports
booking and opens its own connections), restarts one that dies, and on SIGINT or SIGTERM stops them
all and returns. A worker whose parent dies stops itself (app.py), so none is ever left behind.
"""

from __future__ import annotations

import functools
import inspect
import socket
from collections.abc import Callable
from typing import Any

from booking.errors import CannotRun
from booking.i18n.lang import _
from booking.i18n.words import count, install_hint
from booking.service.settings import ServeConfig
from booking.service.shop import scope, serving_strategy
from booking.stores import open_store

KEEP_ALIVE_S = 120  # buyers open their connection before the start barrier: keep it open while they wait
STARTUP_FAILURE = 3
READY_TIMEOUT_S = 60.0  # uvicorn's exit code for a worker that could not start


def serve(settings: ServeConfig, announce: Callable[[str], None] = print) -> int:
    """Run the service until SIGINT or SIGTERM; returns 0 after a clean stop. BadInput or CannotRun before
    anything is served (the store is left as it was when the options are refused)."""
    settings.validate()
    info = serving_strategy(settings)
    try:
        import uvicorn

        if settings.http2:
            import hypercorn  # noqa: F401
    except ModuleNotFoundError as exc:
        raise CannotRun(
            _("booking serve needs {name}: {hint}").format(name=exc.name, hint=install_hint("service"))
        ) from None
    from booking.service.app import create_app

    iso = None if settings.isolation is None else settings.isolation.value
    store = open_store(settings.store_url, iso, timeout_s=settings.timeout_s)
    try:
        sock = listen(settings.host, settings.port)  # before seeding: a port in use changes nothing
        stock = store.prepare(None if settings.keep else settings.tickets)  # once, before any worker starts
        display = store.display
    finally:
        store.close()
    config = uvicorn.Config(
        functools.partial(create_app, settings),  # pickled to each spawned worker: plain data and a name
        factory=True,
        workers=settings.workers,
        lifespan="on",
        log_level="warning",
        access_log=False,
        timeout_keep_alive=KEEP_ALIVE_S,
    )
    host, port = sock.getsockname()[:2]
    announce(
        _(
            "booking serve: {display}, {count}, strategy {name} ({scope}), {count2}, listening on "
            "http://{url_host}:{port}"
        ).format(
            display=display,
            count=count(stock, "ticket"),
            name=info.name,
            scope=scope(info),
            count2=count(settings.workers, "worker"),
            url_host=_url_host(host),
            port=port,
        )
    )
    ready = functools.partial(announce, _("ready: {count} serving").format(count=count(settings.workers, "worker")))
    if settings.http2:
        return _hypercorn(settings, sock, ready)
    workers = supervisor(config, sock, ready)
    try:
        workers.run()
    finally:
        sock.close()
    if any(p.process.exitcode == STARTUP_FAILURE for p in workers.processes):
        raise CannotRun(_("a worker could not start (its error is above)"))
    return 0


def _hypercorn(settings: ServeConfig, sock: socket.socket, ready: Callable[[], None]) -> int:
    from booking.service.hyper import run_workers

    try:
        healthy = run_workers(settings, sock, KEEP_ALIVE_S, ready)
    finally:
        sock.close()
    if not healthy:
        raise CannotRun(_("a worker could not start or stopped (its error is above)"))
    return 0


def supervisor(config: Any, sock: socket.socket, ready: Callable[[], None]) -> Any:
    """uvicorn's supervisor, which also says when every worker has finished its start-up (a race against a
    service whose workers are still starting would meet fewer workers than it was asked to)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    class Supervisor(Multiprocess):
        def init_processes(self) -> None:
            super().init_processes()
            for process in self.processes:
                waited = getattr(process, "wait_until_ready", None)  # uvicorn >= 0.54 pings each worker
                if waited is not None and not waited(READY_TIMEOUT_S, self.should_exit):
                    return  # it died or hangs: the supervisor's loop deals with it
            ready()

    # uvicorn before 0.50 took the server's run method as `target`; later versions make it themselves.
    extra = {"target": uvicorn.Server(config).run} if "target" in inspect.signature(Multiprocess).parameters else {}
    return Supervisor(config, sockets=[sock], **extra)


def listen(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP named, not left 0: each worker rebuilds the socket from (family, type, proto), and asyncio sets
    # TCP_NODELAY on accepted connections only when proto says TCP. Without it the answer's body waited for the
    # client's delayed ACK: 40 ms a request (uvicorn --workers N binds its socket with proto 0).
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise CannotRun(
            _("cannot listen on {host}:{port}: {value}").format(host=host, port=port, value=exc.strerror or exc)
        ) from None
    sock.set_inheritable(True)  # the workers serve this very socket
    return sock


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
