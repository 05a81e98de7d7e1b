"""Three small endpoints, as published, each with a racy and a fixed twin (FIXED=1 in the environment).

Plain Starlette apps shaped like the three kinds docs/endpoints.md races: a FastAPI-style JSON endpoint
behind a bearer token, a Django-style form view behind a session cookie and Django's CSRF check (the
login page's form field and csrftoken cookie, the cookie echoed in X-CSRFToken), and a stock counter that
answers 204 with no ticket id. The window between the read and the write is under a millisecond.

A fourth, narrow one (/narrow/...) has no sleep at all: it reads the tickets left from PostgreSQL
(NARROW_DB, a postgresql:// URL) and writes one fewer, in two statements, as an ORM's get() then
save() does, with no await between them: in one event loop that is no race. It is racy across
processes (uvicorn --workers 4, each with its own connection), where its window is the time from the
read to the write's commit: a fraction of a millisecond, said in each sale's answer (`window_ms`).
The fixed twin takes one fewer in one statement, `UPDATE ... WHERE left > 0`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

FIXED = os.environ.get("FIXED") == "1"
WINDOW_S = 0.0005
state: dict[str, object] = {"free": [1], "stock": 1, "tokens": {}, "sessions": {}}
lock = asyncio.Lock()


async def form_of(request: Request) -> dict[str, str]:
    """A urlencoded form (Starlette's request.form() needs python-multipart)."""
    return {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}


def timing(arrived: float) -> dict[str, str]:
    return {"Server-Timing": f'arrival;desc="{arrived:.6f}"'}


async def guarded(step):  # type: ignore[no-untyped-def]
    if FIXED:
        async with lock:
            return await step()
    return await step()


async def token(request: Request) -> Response:  # POST /token {"username": ..}: FastAPI's OAuth2 shape
    user = (await request.json())["username"]
    issued = secrets.token_hex(8)
    state["tokens"][issued] = user  # type: ignore[index]
    return JSONResponse({"access_token": issued, "token_type": "bearer"})


async def buy_json(request: Request) -> Response:  # POST /api/seats/{seat}/buy, Authorization: Bearer
    body = await request.json()
    arrived = time.time()
    user = state["tokens"].get(request.headers.get("authorization", "")[7:])  # type: ignore[attr-defined]
    if user is None:
        return JSONResponse({"detail": "Not authenticated"}, status_code=401)

    async def step() -> Response:
        free: list[int] = state["free"]  # type: ignore[assignment]
        if not free:
            return JSONResponse({"detail": "sold out"}, status_code=409, headers=timing(arrived))
        seat = free[0]
        await asyncio.sleep(WINDOW_S)
        state["free"] = [s for s in free if s != seat]
        return JSONResponse({"seat": {"id": seat}, "owner": user, "qty": body["qty"]}, headers=timing(arrived))

    return await guarded(step)


async def login_page(request: Request) -> Response:  # GET /accounts/login/: the form and its CSRF token
    csrf = secrets.token_hex(16)
    field = f'<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">'
    page = PlainTextResponse(f'<form method="post">{field}<input name="username"></form>')
    page.set_cookie("csrftoken", csrf)
    return page


def csrf_failed(request: Request, given: str | None) -> Response | None:
    """Django's CsrfViewMiddleware, in short: a POST's token must match its csrftoken cookie."""
    if not given or given != request.cookies.get("csrftoken"):
        return PlainTextResponse("Forbidden (CSRF token missing or incorrect.)", status_code=403)
    return None


async def login(request: Request) -> Response:  # POST /accounts/login/ (form): a session cookie
    form = await form_of(request)
    if (refused := csrf_failed(request, form.get("csrfmiddlewaretoken"))) is not None:
        return refused
    session = secrets.token_hex(8)
    state["sessions"][session] = form["username"]  # type: ignore[index]
    response = PlainTextResponse("welcome", status_code=302, headers={"Location": "/"})
    response.set_cookie("sessionid", session, httponly=True)
    response.set_cookie("csrftoken", secrets.token_hex(16))  # rotated at login, as Django does
    return response


async def buy_form(request: Request) -> Response:  # POST /book/ (form), the session cookie
    form = await form_of(request)
    arrived = time.time()
    if request.cookies.get("sessionid") not in state["sessions"]:  # type: ignore[operator]
        return PlainTextResponse("login required", status_code=403)
    if (refused := csrf_failed(request, request.headers.get("x-csrftoken"))) is not None:
        return refused

    async def step() -> Response:
        free: list[int] = state["free"]  # type: ignore[assignment]
        if not free:
            return PlainTextResponse("Sorry, that show is sold out.", headers=timing(arrived))
        seat = free[0]
        await asyncio.sleep(WINDOW_S)
        state["free"] = [s for s in free if s != seat]
        return PlainTextResponse(f"Booked seat {seat} for show {form['show']}.", headers=timing(arrived))

    return await guarded(step)


async def take(request: Request) -> Response:  # PUT /stock/take?user=N: no ticket id, 204
    arrived = time.time()

    async def step() -> Response:
        left: int = state["stock"]  # type: ignore[assignment]
        if left <= 0:
            return PlainTextResponse("none left", status_code=410, headers=timing(arrived))
        await asyncio.sleep(WINDOW_S)
        state["stock"] = left - 1
        return Response(status_code=204, headers=timing(arrived))

    return await guarded(step)


async def stock(request: Request) -> Response:
    return JSONResponse({"stock": {"left": state["stock"]}})


async def reset(request: Request) -> Response:
    n = int(request.query_params.get("n", "1"))
    state.update(free=list(range(1, n + 1)), stock=n)
    return JSONResponse({"ok": True})


NARROW_DB = os.environ.get("NARROW_DB", "postgresql://postgres@127.0.0.1:5432/postgres")
narrow: dict[str, Any] = {}


def narrow_db() -> Any:
    """This worker's connection (made in the worker, on its first request), in autocommit: each statement
    is its own transaction."""
    if "db" not in narrow:
        import psycopg

        narrow["db"] = psycopg.connect(NARROW_DB, autocommit=True)
        # A commit does not wait for the disk: the window is the statements' round trips, not a flush.
        narrow["db"].execute("SET synchronous_commit = off")
    return narrow["db"]


def narrow_table(url: str) -> None:
    """The one-row table the narrow endpoint sells from (made before the workers start)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        db.execute("CREATE TABLE IF NOT EXISTS narrow_stock (id INTEGER PRIMARY KEY, left_ INTEGER NOT NULL)")
        db.execute("INSERT INTO narrow_stock VALUES (1, 0) ON CONFLICT DO NOTHING")


def plain(url: str) -> str:
    """A store URL as psycopg takes it (no SQLAlchemy driver name)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def narrow_setup(store: str, tickets: int) -> None:
    """booking's --setup for --runs: `tickets` left before each run."""
    import psycopg

    narrow_table(plain(store))
    with psycopg.connect(plain(store), autocommit=True) as db:
        db.execute("UPDATE narrow_stock SET left_ = %s", (tickets,))


def narrow_left(store: str) -> int:
    """booking's --stock: the tickets left after a run."""
    import psycopg

    with psycopg.connect(plain(store), autocommit=True) as db:
        return int(db.execute("SELECT left_ FROM narrow_stock").fetchone()[0])


async def narrow_buy(request: Request) -> Response:  # POST /narrow/buy?user=N: read, no sleep, write
    arrived = time.time()
    db = narrow_db()
    if FIXED:
        start = time.perf_counter()
        row = db.execute("UPDATE narrow_stock SET left_ = left_ - 1 WHERE left_ > 0 RETURNING left_ + 1").fetchone()
        left = row[0] if row else 0
    else:
        (left,) = db.execute("SELECT left_ FROM narrow_stock").fetchone()
        start = time.perf_counter()  # the window: from the read to the write's commit
        if left > 0:
            db.execute("UPDATE narrow_stock SET left_ = %s", (left - 1,))
    took = (time.perf_counter() - start) * 1000
    timed = {"Server-Timing": f'arrival;desc="{arrived:.6f}", window;dur={took:.3f}'}
    if left <= 0:
        return JSONResponse({"detail": "sold out", "worker": os.getpid()}, status_code=410, headers=timed)
    return JSONResponse({"ticket": left, "window_ms": round(took, 3), "worker": os.getpid()}, headers=timed)


async def narrow_stock(request: Request) -> Response:
    return JSONResponse({"left": narrow_db().execute("SELECT left_ FROM narrow_stock").fetchone()[0]})


async def narrow_reset(request: Request) -> Response:
    narrow_db().execute("UPDATE narrow_stock SET left_ = %s", (int(request.query_params.get("n", "1")),))
    return JSONResponse({"ok": True})


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    if "NARROW_DB" in os.environ:
        narrow_db()  # each worker connected before its first request, as a real service's pool is
    yield


app = Starlette(
    lifespan=lifespan,
    routes=[
        Route("/token", token, methods=["POST"]),
        Route("/api/seats/{seat}/buy", buy_json, methods=["POST"]),
        Route("/accounts/login/", login_page, methods=["GET"]),
        Route("/accounts/login/", login, methods=["POST"]),
        Route("/book/", buy_form, methods=["POST"]),
        Route("/stock/take", take, methods=["PUT"]),
        Route("/stock", stock, methods=["GET"]),
        Route("/reset", reset, methods=["POST"]),
        Route("/narrow/buy", narrow_buy, methods=["POST"]),
        Route("/narrow/stock", narrow_stock, methods=["GET"]),
        Route("/narrow/reset", narrow_reset, methods=["POST"]),
    ],
)
