"""An endpoint's own stock (`[stock]` in a target config, no --store) is read before the run, never taken
from --tickets: booking cannot seed it, and an assumed count judges a fixed endpoint's sales wrongly."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

CONFIG = """
[buy]
method = "PUT"
path = "/take?user={buyer}"

[success]
status = [204]
receipt = "none"

[sold-out]
status = [410]

[stock]
path = "/stock"
pointer = "/left"
"""


class _Counter(BaseHTTPRequestHandler):
    """A fixed stock counter: the read and the write under one lock."""

    left = 3
    guard = threading.Lock()

    def do_PUT(self) -> None:
        with self.guard:
            took = type(self).left > 0
            type(self).left -= took
        self._answer(204 if took else 410, b"")

    def do_GET(self) -> None:
        self._answer(200, json.dumps({"left": type(self).left}).encode())

    def do_POST(self) -> None:  # /reset?n=N, or /broken-reset
        if not self.path.startswith("/reset?n="):
            self._answer(500, b"no such reset")
            return
        type(self).left = int(self.path.split("=", 1)[1])
        self._answer(200, b"")

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def counter(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    handler = type("Counter", (_Counter,), {"left": 3, "guard": threading.Lock()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    config = tmp_path / "counter.toml"
    config.write_text(CONFIG)
    yield f"http://127.0.0.1:{server.server_address[1]}", config
    server.shutdown()
    server.server_close()
    thread.join(10)


def test_the_stock_before_the_run_is_the_endpoint_s_own(cli: Any, counter: tuple[str, Path]) -> None:
    """3 tickets left by whoever ran before, --tickets left at its default of 1: two sales are no oversell."""
    url, config = counter
    ran = cli("simulate", "--target", url, "--target-config", config, "--buyers", 2)
    assert ran.code == 0 and "verdict: OK" in ran.out, ran.out + ran.err
    assert "sold 2  remaining 1" in ran.out, ran.out


def test_tickets_that_disagree_with_the_endpoint_are_refused(cli: Any, counter: tuple[str, Path]) -> None:
    """--tickets says what you reset the endpoint to: 5 against its 3 is a mistake, said before any request."""
    url, config = counter
    ran = cli("simulate", "--target", url, "--target-config", config, "--buyers", 2, "--tickets", 5)
    assert ran.code == 2 and "--tickets 5, but GET /stock says 3 left" in ran.err, ran.out + ran.err
    assert len(ran.err.strip().splitlines()) == 1
    agreed = cli("simulate", "--target", url, "--target-config", config, "--buyers", 2, "--tickets", 3)
    assert agreed.code == 0 and "sold 2  remaining 1" in agreed.out, agreed.out + agreed.err


def test_a_reset_request_sets_the_stock_before_each_run(cli: Any, counter: tuple[str, Path]) -> None:
    """[reset] with {tickets}: every run starts from --tickets, run after run (without it the second would
    find the first's stock gone)."""
    url, config = counter
    config.write_text(CONFIG + '\n[reset]\nmethod = "POST"\npath = "/reset?n={tickets}"\n')
    for _ in range(2):
        ran = cli("simulate", "--target", url, "--target-config", config, "--buyers", 4, "--tickets", 2)
        assert ran.code == 0 and "sold 2  remaining 0" in ran.out, ran.out + ran.err


def test_a_reset_that_fails_stops_the_run_before_any_buy(cli: Any, counter: tuple[str, Path]) -> None:
    url, config = counter
    config.write_text(CONFIG + '\n[reset]\nmethod = "POST"\npath = "/broken-reset"\n')
    ran = cli("simulate", "--target", url, "--target-config", config, "--buyers", 2)
    assert ran.code == 3 and "[reset] POST /broken-reset answered 500: no such reset" in ran.err, ran.out + ran.err
    assert len(ran.err.strip().splitlines()) == 1
    with urllib.request.urlopen(f"{url}/stock", timeout=10) as answer:
        assert json.load(answer) == {"left": 3}  # no buyer bought
