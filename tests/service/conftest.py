"""`serve`: start `booking serve` as a real process on a free loopback port, wait until every worker is up,
and always stop it, checking that no process of it is left (its session is empty afterwards).

`in_process`: the app one worker runs, called in this process through httpx's ASGITransport (its
lifespan entered as a worker's is). The contract's answers are tested this way; real workers only where
the behaviour is about them: processes, sockets, buyers sending real requests."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("uvicorn", reason="booking[service] is not installed")

START_S = 60.0  # four spawned workers import booking, Starlette and a driver: slow on a loaded 2-core host
STOP_S = 15.0


@dataclass
class Service:
    proc: subprocess.Popen[str]
    url: str
    port: int
    log: Path  # the service's stderr

    def members(self) -> list[int]:
        """Every process still in the service's session: the supervisor, its workers, their helpers."""
        return session_members(self.proc.pid)


def session_members(sid: int) -> list[int]:
    """The processes of session `sid` (the service is started in a session of its own), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited while we looked
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid pgrp session ...
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def wait_gone(pids: list[int], timeout: float) -> None:
    """Wait for processes that are not our children to exit: a pidfd becomes readable when its process ends."""
    until = time.monotonic() + timeout
    for pid in pids:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        try:
            with selectors.DefaultSelector() as sel:
                sel.register(fd, selectors.EVENT_READ)
                sel.select(max(until - time.monotonic(), 0))
        finally:
            os.close(fd)


def start(args: list[str], log: Path) -> Service:
    """`booking serve ARGS` in a session of its own; returns once it says every worker is ready."""
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "booking", "serve", "--host", "127.0.0.1", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            start_new_session=True,
        )
    assert proc.stdout is not None
    url, lines, until = "", [], time.monotonic() + START_S
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while time.monotonic() < until:  # its lines are events: the port, then "ready"
            if not sel.select(until - time.monotonic()):
                break
            line = proc.stdout.readline()
            if not line:
                break  # it exited
            lines.append(line)
            found = re.search(r"listening on (http://127\.0\.0\.1:(\d+))", line)
            url = found.group(1) if found else url
            if line.startswith("ready"):
                return Service(proc, url, int(url.rsplit(":", 1)[1]), log)
    stop(Service(proc, url, 0, log))
    raise AssertionError(f"booking serve did not get ready: {''.join(lines)}{log.read_text()[-2000:]}")


def stop(service: Service, sig: int = signal.SIGTERM) -> int:
    """Stop the service and everything it started; return its exit code. Never leaves a process behind."""
    proc = service.proc
    if proc.poll() is None:
        proc.send_signal(sig)  # to the supervisor only, as an operator would: it stops its workers
        try:
            proc.wait(STOP_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(STOP_S)
    wait_gone(service.members(), STOP_S)
    left = service.members()
    if left:
        os.killpg(proc.pid, signal.SIGKILL)
    assert not left, f"processes of booking serve left behind: {left}"
    if proc.stdout is not None:
        proc.stdout.close()
    return proc.returncode


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Service]]:
    """serve(store, lock, *more options) -> a running `booking serve` with 4 workers; stopped after the test."""
    started: list[Service] = []

    def run(store: str, lock: str, *more: str) -> Service:
        log = tmp_path / f"serve-{len(started)}.log"
        service = start(["--store", store, "--lock", lock, "--workers", "4", *more], log)
        started.append(service)
        return service

    yield run
    for service in started:
        stop(service)


@dataclass
class InProcess:
    """One worker's app in this process: `request` is httpx's, answered by the app without a socket."""

    portal: Any  # anyio's blocking portal: the event loop the app runs in, on a thread of its own
    client: Any  # httpx.AsyncClient on an ASGITransport

    def request(self, method: str, path: str, **options: Any) -> Any:
        return self.portal.call(functools.partial(self.client.request, method, path, **options))

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def post(self, path: str, **options: Any) -> Any:
        return self.request("POST", path, **options)

    def gather(self, method: str, path: str, bodies: list[Any]) -> list[Any]:
        """The requests sent together (each awaits its answer on the app's event loop at once)."""
        import anyio

        async def all_at_once() -> list[Any]:
            answers: list[Any] = [None] * len(bodies)

            async def one(i: int) -> None:
                answers[i] = await self.client.request(method, path, json=bodies[i])

            async with anyio.create_task_group() as tg:
                for i in range(len(bodies)):
                    tg.start_soon(one, i)
            return answers

        return self.portal.call(all_at_once)


@contextlib.contextmanager
def in_process(**settings: Any) -> Iterator[InProcess]:
    """The app `booking serve` would give each worker, with the store seeded as serve seeds it, once."""
    import anyio.from_thread
    import httpx

    from booking.service.app import create_app
    from booking.service.settings import ServeConfig
    from booking.stores import open_store

    config = ServeConfig(**settings)
    store = open_store(config.store)
    try:
        store.prepare(config.tickets)
    finally:
        store.close()
    app = create_app(config)
    with (
        anyio.from_thread.start_blocking_portal() as portal,
        portal.wrap_async_context_manager(app.router.lifespan_context(app)),
    ):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://booking.test")
        try:
            yield InProcess(portal, client)
        finally:
            portal.call(client.aclose)
