"""Three small endpoints, as published, each with a racy and a fixed twin (FIXED=1 in the environment).

Plain Starlette apps shaped like the three kinds docs/endpoints.md races: a FastAPI-style JSON endpoint
behind a bearer token, a Django-style form view behind a session cookie, and a stock counter that
answers 204 with no ticket id. The window between the read and the write is under a millisecond.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
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


async def login(request: Request) -> Response:  # POST /accounts/login/ (form): a session cookie
    form = await form_of(request)
    session = secrets.token_hex(8)
    state["sessions"][session] = form["username"]  # type: ignore[index]
    response = PlainTextResponse("welcome", status_code=302, headers={"Location": "/"})
    response.set_cookie("sessionid", session, httponly=True)
    return response


async def buy_form(request: Request) -> Response:  # POST /book/ (form), the session cookie
    form = await form_of(request)
    arrived = time.time()
    if request.cookies.get("sessionid") not in state["sessions"]:  # type: ignore[operator]
        return PlainTextResponse("login required", status_code=403)

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


app = Starlette(
    routes=[
        Route("/token", token, methods=["POST"]),
        Route("/api/seats/{seat}/buy", buy_json, methods=["POST"]),
        Route("/accounts/login/", login, methods=["POST"]),
        Route("/book/", buy_form, methods=["POST"]),
        Route("/stock/take", take, methods=["PUT"]),
        Route("/stock", stock, methods=["GET"]),
        Route("/reset", reset, methods=["POST"]),
    ]
)
