"""Issue 16 items 1 to 3 and the acceptance's bad input and loopback: the service's answers, what it refuses,
how it stops, and a service that is not booking's, raced through --target-map and the `race` fixture.

The answers and refusals are the app's: called in this process (`shop`). What is about the network or
processes runs against a real `booking serve` (`served`): bytes that are not HTTP, the address it
listens on, buyer processes sending requests, a port in use, a supervisor killed outright."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from booking.errors import BadInput
from booking.history import Outcome
from booking.strategies.contract import Mapping, judge, parse_map
from tests.service.conftest import InProcess, Service, in_process, start, stop, wait_gone

HUGE = 1_000_000


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[InProcess, Path]]:
    """The app of one worker of a service, in this process: SQLite, atomic, 3 tickets, 2 workers."""
    db = tmp_path_factory.mktemp("shop") / "shop.db"
    with in_process(store=f"sqlite:///{db}", strategy="atomic", workers=2, tickets=3) as app:
        yield app, db


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, Path]]:
    """A real `booking serve` for the module: SQLite, atomic, 3 tickets, one worker process."""
    where = tmp_path_factory.mktemp("served")
    db = where / "shop.db"
    service = start(
        ["--store", f"sqlite:///{db}", "--lock", "atomic", "--workers", "1", "--tickets", "3"], where / "log"
    )
    yield service, db
    stop(service)


def rows(db: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT * FROM tickets").fetchall() + conn.execute("SELECT * FROM purchases").fetchall()


class TestBadInputChangesNothing:
    """Malformed JSON, an unknown path, a huge body...: a 4xx with a one-line reason; the store as it was."""

    CASES = (  # (method, path, body or size, status, words in the reason)
        ("POST", "/purchase", b'{"buyer": ', 400, "not JSON"),
        ("POST", "/purchase", b"", 400, "not JSON"),
        ("POST", "/purchase", b'{"buyer": 0}', 422, "from 1 to"),
        ("POST", "/purchase", b'{"buyer": "1"}', 422, "whole number"),
        ("POST", "/purchase", b'{"buyer": true}', 422, "whole number"),
        ("POST", "/purchase", b"[1]", 422, "nothing else"),
        ("POST", "/purchase", b'{"buyer": 1, "seat": 2}', 422, "nothing else"),
        ("POST", "/purchase", b'{"buyer": 1, "buyer": 2}', 422, "duplicate key"),
        ("POST", "/purchase", b"[" * 100_000, 413, "larger than"),
        ("POST", "/purchase", HUGE, 413, "larger than"),
        ("GET", "/purchase", b"", 405, "not allowed"),
        ("POST", "/tickets", b"", 405, "not allowed"),
        ("GET", "/nope", b"", 404, "no such path"),
        ("DELETE", "/run", b"", 405, "not allowed"),
        ("POST", "/purchase", '{"buyer": 1}'.encode("utf-16"), 400, "not JSON"),  # UTF-8 only, never guessed
    )
    JSON: ClassVar[dict[str, str]] = {"content-type": "application/json"}
    # Bodies not declared JSON (in UTF-8): refused before they are read, whatever they hold.
    UNDECLARED = (
        ({}, "no content type"),
        ({"content-type": "text/plain"}, "text/plain"),
        ({"content-type": "application/x-www-form-urlencoded"}, "application/x-www-form-urlencoded"),
        ({"content-type": "application/json; charset=utf-16"}, "charset utf-16"),
    )

    @pytest.mark.parametrize(("method", "path", "body", "status", "words"), CASES)
    def test_refused_in_one_line(self, shop: Any, method: str, path: str, body: Any, status: int, words: str) -> None:
        app, db = shop
        before = rows(db)
        if body == HUGE:  # streamed without a length: refused as soon as too much has arrived

            async def chunks() -> Any:
                for _ in range(HUGE // 65536):
                    yield b"x" * 65536

            answer = app.request(method, path, content=chunks(), headers=self.JSON)
        else:
            answer = app.request(method, path, content=body, headers=self.JSON)
        assert answer.status_code == status
        reason = answer.json()["error"]
        assert words in reason and "\n" not in reason and len(reason) < 200
        assert app.get("/tickets").json() == {"remaining": 3}
        assert rows(db) == before

    @pytest.mark.parametrize(("headers", "words"), UNDECLARED)
    def test_a_body_not_declared_json_is_415(self, shop: Any, headers: dict[str, str], words: str) -> None:
        """A purchase that would be sold if it were JSON, sent as something else: 415, nothing sold."""
        app, db = shop
        before = rows(db)
        answer = app.request("POST", "/purchase", content=b'{"buyer": 1}', headers=headers)
        assert answer.status_code == 415
        assert words in answer.json()["error"]
        assert rows(db) == before

    def test_garbage_instead_of_http(self, served: Any) -> None:
        """uvicorn's parser, in front of the app: only a real service has it."""
        service, db = served
        before = rows(db)
        with socket.create_connection(("127.0.0.1", service.port), timeout=10) as raw:
            raw.sendall(b"BUY /purchase NOW\r\n\r\n")
            assert raw.recv(100).startswith(b"HTTP/1.1 400")
        assert rows(db) == before


class TestAnswers:
    """The contract's answers: bought, sold out; health and what the service runs."""

    def test_the_look_the_purchase_and_sold_out(self, cli: Any, shop: Any) -> None:
        c, db = shop
        assert c.get("/health").json()["ok"] is True
        about = c.get("/run").json()
        assert about["strategy"] == "atomic" and about["workers"] == 2 and about["store"].endswith("shop.db")
        bought = [c.post("/purchase", json={"buyer": b}) for b in (1, 2, 3, 4)]
        assert [a.status_code for a in bought] == [200, 200, 200, 410]
        assert sorted(a.json()["ticket"] for a in bought[:3]) == [1, 2, 3]
        assert bought[3].json()["outcome"] == "sold-out" and c.get("/tickets").json() == {"remaining": 0}
        assert cli("init", "--store", f"sqlite:///{db}", "--tickets", 3).code == 0

    def test_requests_sent_together_buy_the_stock_once(self, tmp_path: Path) -> None:
        """atomic in one worker, 20 purchases at once for 2 tickets, each inside a 50 ms window after its
        read: 2 sold, 18 sold out. (Across worker processes: test_race.py; the whole matrix: -m slow.)"""
        store = f"sqlite:///{tmp_path / 'shop.db'}"
        with in_process(store=store, strategy="atomic", tickets=2, threads=8, think_ms=50) as app:
            answers = app.gather("POST", "/purchase", [{"buyer": b} for b in range(1, 21)])
            statuses = sorted(a.status_code for a in answers)
            assert statuses == [200] * 2 + [410] * 18, [a.json() for a in answers]
            assert sorted(a.json()["ticket"] for a in answers if a.status_code == 200) == [1, 2]
            assert app.get("/tickets").json() == {"remaining": 0}


class TestFaults:
    """A buyer killed with its request sent and its answer unread: a sale may exist without a receipt."""

    def test_killed_in_flight_is_allowed_for(self, cli: Any, served: Any) -> None:
        service, db = served
        ran = cli("simulate", "--target", service.url, "--store", f"sqlite:///{db}", "--tickets", 3,
                  "--buyers", 3, "--kill-buyer", 2, "--json")  # fmt: skip
        data = ran.json()
        assert ran.code == 0 and data["killed"] == 1 and data["anomalies"] == [], ran.out + ran.err
        assert data["sold"] == 2  # the receipts of buyers 1 and 3; buyer 2's purchase had no one to answer


class TestOnlyLoopback:
    """No traffic leaves the loopback interface: the service listens on 127.0.0.1, and buyers use no proxy."""

    def test_the_service_listens_on_loopback_only(self, served: Any) -> None:
        service, _ = served
        listening = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
        mine = [f[1] for f in listening if f[3] == "0A" and int(f[1].split(":")[1], 16) == service.port]
        assert mine == [f"0100007F:{service.port:04X}"]  # 127.0.0.1, and nothing else

    def test_buyers_ignore_proxies_in_the_environment(self, cli: Any, served: Any, monkeypatch: Any) -> None:
        service, db = served
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy"):  # the buyer processes inherit them
            monkeypatch.setenv(name, "http://127.0.0.1:9")
        ran = cli("simulate", "--target", service.url, "--store", f"sqlite:///{db}", "--tickets", 3,
                  "--buyers", 4, "--json")  # fmt: skip
        assert ran.json()["sold"] == 3 and ran.json()["errors"] == 0, ran.err


class TestShutdown:
    """No worker outlives the service, even when its supervisor is killed outright."""

    def test_no_worker_outlives_a_killed_supervisor(self, tmp_path: Path) -> None:
        """(SIGTERM is how every test's service is stopped: the fixture checks the same, every time.)"""
        service = start(["--store", str(tmp_path / "db.json"), "--workers", "2"], tmp_path / "log")
        workers = service.members()
        assert len(workers) >= 3  # the supervisor and its 2 workers
        service.proc.send_signal(signal.SIGKILL)
        assert service.proc.wait(15) == -signal.SIGKILL
        wait_gone(workers, 15)  # the workers see their parent's sentinel fire and stop themselves
        assert service.members() == []
        stop(service)


class TestRefusedOptions:
    """serve and simulate --target refuse what does not fit in one line, before touching anything."""

    @pytest.mark.parametrize(
        ("args", "code", "words"),
        [
            (("serve", "--workers", "0"), 2, "--workers must be at least 1"),
            (("serve", "--lock", "queue"), 2, "does not apply to booking serve"),
            (("serve", "--host", "example.org"), 2, "--host"),
            (("simulate", "--target", "ftp://127.0.0.1:1"), 2, "expected http://HOST:PORT"),
            (("simulate", "--target", "http://127.0.0.1:1/buy"), 2, "--target-map path="),
            (("simulate", "--target", "http://127.0.0.1:1", "--lock", "none"), 2, "--lock does not apply"),
            (("simulate", "--target", "http://127.0.0.1:1", "--target-map", "seat=1"), 2, "unknown key 'seat'"),
            (("simulate", "--target-map", "path=/x"), 2, "goes with --target"),
            (("simulate", "--target", "http://127.0.0.1:1", "--schedule", "random"), 2, "lockstep or free"),
        ],
    )
    def test_bad_options(
        self, cli: Any, tmp_path: Path, monkeypatch: Any, args: tuple[str, ...], code: int, words: str
    ) -> None:
        monkeypatch.chdir(tmp_path)
        ran = cli(*args)
        assert ran.code == code and words in ran.err and ran.err.count("\n") == 1, ran.err
        assert list(tmp_path.iterdir()) == []  # no store was made

    def test_an_unreachable_target_is_exit_3_and_the_store_is_untouched(self, cli: Any, tmp_path: Path) -> None:
        with socket.socket() as closed:  # bound, never listening: connections are refused
            closed.bind(("127.0.0.1", 0))
            db = tmp_path / "db.json"
            db.write_text('{"count": 7}')
            ran = cli("simulate", "--target", f"http://127.0.0.1:{closed.getsockname()[1]}", "--store", db)
        assert ran.code == 3 and "cannot reach it" in ran.err and db.read_text() == '{"count": 7}'

    def test_a_port_in_use_is_exit_3(self, cli: Any, tmp_path: Path) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            ran = cli("serve", "--store", tmp_path / "db.json", "--port", taken.getsockname()[1])
        assert ran.code == 3 and "cannot listen on 127.0.0.1" in ran.err and not (tmp_path / "db.json").exists()


class TestTheContract:
    """How an answer is read, and how --target-map changes it."""

    @pytest.mark.parametrize(
        ("status", "body", "outcome", "ticket"),
        [
            (200, b'{"ticket": 7, "worker": 12}', Outcome.OK, 7),
            (201, b'{"ticket": "8"}', Outcome.OK, 8),
            (200, b'{"ticket": "A8"}', Outcome.ERROR, None),
            (200, b"<html>", Outcome.ERROR, None),
            (410, b"", Outcome.SOLD_OUT, None),
            (409, b'{"error": "lost the race"}', Outcome.CONFLICT, None),
            (500, b"boom\nstack", Outcome.ERROR, None),
        ],
    )
    def test_booking_s_contract(self, status: int, body: bytes, outcome: Outcome, ticket: int | None) -> None:
        answer = judge(Mapping(), status, body)
        assert (answer.outcome, answer.ticket) == (outcome, ticket)
        assert answer.error is None or "\n" not in answer.error

    def test_a_mapping(self) -> None:
        m = parse_map("path=/api/book,method=put,buyer=user.id,ticket=seat.id,sold-out=422|404,declined=423")
        assert m.body(5) == {"user": {"id": 5}} and m.method == "PUT"
        assert judge(m, 200, b'{"seat": {"id": 3}}').ticket == 3
        assert judge(m, 404, b"").outcome is Outcome.SOLD_OUT and judge(m, 423, b"").outcome is Outcome.CONFLICT
        assert judge(m, 410, b"").outcome is Outcome.ERROR

    @pytest.mark.parametrize(
        "spec",
        ["path", "path=api", "sold-out=200", "sold-out=abc", "seat=1", "sold-out=409,declined=409", "method=GET"],
    )
    def test_a_bad_mapping_is_refused(self, spec: str) -> None:
        with pytest.raises(BadInput, match="--target-map"):
            parse_map(spec)


class _Shop(BaseHTTPRequestHandler):
    """Somebody else's booking endpoint: POST /api/book {"user": {"id": N}} -> 201 {"seat": {"id": "N"}}, 422."""

    seats = 1
    guard: threading.Lock | None = None  # the fixed twin holds a lock from its read to its write

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        with self.guard or _nothing():
            left = type(self).seats
            time.sleep(0.05)  # the race window, widened
            if left > 0:
                type(self).seats = left - 1
        status, body = (201, {"seat": {"id": str(left)}}) if left > 0 else (422, {"detail": "no seats"})
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.fixture
def foreign() -> Iterator[type[_Shop]]:
    handler = type("Shop", (_Shop,), {"seats": 1, "guard": None})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    yield handler
    server.shutdown()
    server.server_close()
    thread.join(10)


MAP = "path=/api/book,buyer=user.id,ticket=seat.id,sold-out=422"


class TestYourOwnEndpoint:
    """Any service can be raced: its shape through --target-map, from the `race` fixture as from the CLI."""

    def test_a_racy_endpoint_fails_and_its_fix_passes(self, race: Any, foreign: Any) -> None:
        outcome = race(target=foreign.url, target_map=MAP, buyers=6, tickets=1)
        assert outcome.verdict.double_sold == 1 and not outcome.ok, outcome.explain()
        assert "each returned ticket #1" in outcome.explain()
        foreign.seats, foreign.guard = 1, threading.Lock()
        fixed = race(target=foreign.url, target_map=MAP, buyers=6, tickets=1)
        assert fixed.ok and fixed.verdict.sold == 1 and fixed.verdict.refused == 5, fixed.explain()
