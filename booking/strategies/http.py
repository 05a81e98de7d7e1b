"""Buyers as HTTP clients: `--target URL` sends every purchase to a service, booking's own or yours.

The buyer is the same process as for any strategy; its purchase is one request (booking's contract,
or the shape `--target-map` gives, booking/strategies/contract.py). Its window is before the request:
lockstep holds every buyer there, after each has started and opened its connection (a GET of the
health path before the start barrier), then lets all send at once, so the requests reach the
service together. Whatever protects the tickets is the service's: booking sees only the answers,
and the store if `--store` names it.

httpx is made with trust_env=False: no proxy from the environment can carry a request anywhere
but the URL given.
"""

from __future__ import annotations

import socket
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import h11

from booking.errors import BadInput, CannotRun, Unavailable
from booking.history import Attempt, Outcome
from booking.i18n.lang import _
from booking.i18n.words import install_hint, one_line
from booking.kit import points
from booking.options.config import RunConfig
from booking.options.store_url import masked_url, url_secrets
from booking.strategies.base import ANY_STORE, BuyerContext, Needs, StrategyInfo
from booking.strategies.contract import RUN
from booking.strategies.target.answer import arrival, judge
from booking.strategies.target.fill import encode
from booking.strategies.target.handover import written_at
from booking.strategies.target.load import from_file, from_map
from booking.strategies.target.login import COOKIES, log_in
from booking.strategies.target.spec import HTTP2, LAST_BYTE, Spec
from booking.strategies.target.wire import Reply, Wire

if TYPE_CHECKING:
    import httpx

PROBE_TIMEOUT_S = 5.0  # an unreachable target is an error within seconds, as an unreachable database is
NAME = "http"


def check_target(config: RunConfig) -> Spec:
    """Refuse what cannot go with --target (before anything is touched); the endpoint's Spec."""
    target = config.target or ""
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInput(
            _("--target {mask_url!r}: expected http://HOST:PORT (the service's address)").format(
                mask_url=masked_url(target)
            )
        )
    if parts.path not in ("", "/") or parts.query:
        raise BadInput(
            _("--target {mask_url}: give the address only; --target-map path=... names the path").format(
                mask_url=masked_url(target)
            )
        )
    clash = [
        flag
        for flag, given in (
            ("--purchase", config.purchase is not None),
            ("--lock", config.strategy is not None or config.no_lock),
            ("--isolation", config.isolation is not None),
            ("--sellers", config.sellers != 1 or config.seller_lock is not None),
            ("--kill-seller", config.kill_seller is not None),
            ("--durable", config.durable),
            ("--think", bool(config.think_ms)),
            ("--prepare", config.prepare is not None),
        )
        if given
    ]
    if clash:
        raise BadInput(
            _("{clash} does not apply with --target: the service does its own purchase (booking serve)").format(
                clash=clash[0]
            )
        )
    if config.keep and not config.store:
        raise BadInput(_("--keep with --target needs --store: the stock is read from the service's store"))
    if config.schedule.one_at_a_time:
        raise BadInput(
            _(
                "--schedule {value} lets one buyer go at a time; over HTTP a buyer's only point is "
                "before its request, so nothing would overlap (choose lockstep or free)"
            ).format(value=config.schedule.value)
        )
    return target_spec(config)


def target_spec(config: RunConfig) -> Spec:
    """The endpoint as --target-config (and --buyers-from) or --target-map says it is; --http2 as the file's http."""
    spec = _file_or_map(config)
    return replace(spec, http=HTTP2) if config.http2 else spec


def _file_or_map(config: RunConfig) -> Spec:
    if config.target_config is not None:
        if config.target_map is not None:
            raise BadInput(_("--target-map and --target-config: choose one (the file says everything the map does)"))
        return from_file(config.target_config, config.buyers_from)[1]
    if config.buyers_from is not None:
        raise BadInput(_("--buyers-from goes with --target-config (its templates use the file's columns)"))
    return from_map(config.target_map)


def _client(target: str, timeout: float) -> httpx.Client:
    import httpx

    # Plain http needs no TLS: verify=False spares each buyer loading the CA bundle (~80 ms of CPU apiece).
    # TCP_NODELAY: httpx writes a POST's headers and its body separately; the body must not wait on Nagle.
    transport = httpx.HTTPTransport(
        verify=urlsplit(target).scheme == "https", socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    )
    return httpx.Client(base_url=target, timeout=timeout, trust_env=False, transport=transport)


def probe(target: str, spec: Spec, buyers: int = 1) -> dict[str, Any] | None:
    """Before the run, in the parent: the target answers (else CannotRun, exit 3); booking's own service also
    says what it runs (GET /run), which the run's header shows. None for a service that does not say."""
    try:
        import httpx
    except ModuleNotFoundError:
        raise CannotRun(_("--target needs httpx: {hint}").format(hint=install_hint("service"))) from None
    with _client(target, PROBE_TIMEOUT_S) as client:
        try:
            client.get(spec.health)
            about = client.get(RUN)
        except httpx.HTTPError as exc:
            raise CannotRun(
                _("target {target}: cannot reach it: {why}").format(
                    target=masked_url(target), why=one_line(exc, url_secrets(target))
                )
                + _untrusted(exc)
            ) from None
    if spec.http == HTTP2:
        _speaks_http2(target, buyers)
    try:
        data = about.json() if about.status_code == 200 else None
    except ValueError:
        return None
    return data if isinstance(data, dict) and data.get("service") == "booking" else None


def _untrusted(exc: BaseException) -> str:
    """The way out of a certificate this machine does not trust (a development server's self-signed one)."""
    if "CERTIFICATE_VERIFY_FAILED" not in str(exc):
        return ""
    return _(" (to trust a development certificate: SSL_CERT_FILE=its-cert.pem booking ...)")


def _speaks_http2(target: str, buyers: int) -> None:
    """BadInput when the target does not speak HTTP/2 (--http2), or takes fewer streams on one connection than
    there are buyers; CannotRun when h2 is not installed."""
    try:
        from booking.strategies.target.streams import speaks_http2
    except ModuleNotFoundError:
        raise CannotRun(_("--http2 needs h2: {hint}").format(hint=install_hint("service"))) from None
    try:
        speaks_http2(target, PROBE_TIMEOUT_S, buyers)
    except OSError as exc:
        raise CannotRun(
            _("target {target}: cannot reach it: {why}").format(target=masked_url(target), why=one_line(exc))
        ) from None


def served(config: RunConfig, spec: Spec) -> str:
    """What the header says about the target: booking serve's strategy, scope and workers; "" for another service."""
    about = probe(config.target or "", spec, config.buyers)
    if about is None:
        return ""
    workers = about.get("workers")
    return f"booking serve: {about.get('strategy')}, {about.get('scope')}, {workers} workers"[:200]


def http_strategy(target: str, spec: Spec | None = None) -> StrategyInfo:
    """The buyers' strategy for `--target`: a request per purchase, connected (and logged in) before the start
    barrier, written all but its last byte before the window and released there (last-byte sync)."""
    spec = spec or from_map(None)

    def setup(ctx: BuyerContext) -> None:
        ctx.local["wire"], ctx.local["values"], ctx.local["login"] = connect(target, spec, ctx.buyer, ctx.time_left())

    def purchase(store: Any, ctx: BuyerContext, rec: Attempt) -> None:
        try:
            _send(target, spec, ctx, rec)
        except (OSError, h11.ProtocolError) as exc:  # refused, reset, timed out: the service failed, not its strategy
            ctx.local["wire"].close()
            raise ServiceUnavailable(_("the service did not answer: {why}").format(why=one_line(exc))) from None

    return StrategyInfo(
        NAME,
        "each purchase is an HTTP request to the service; the service's own strategy protects it",
        "whatever the service protects",
        ANY_STORE,
        safe=False,
        window=points.BEFORE_LOCK,
        purchase=purchase,
        # Last-byte sync over plain http: the parent writes every buyer's last byte (target/handover.py); over
        # HTTP/2 every buyer's final frame, on the parent's one connection (target/batch.py).
        needs=Needs(last_bytes=spec.sync == LAST_BYTE and (urlsplit(target).scheme == "http" or spec.http == HTTP2)),
        # From the request sent to the answer read, the purchase is in the service's hands: a buyer
        # killed there leaves a sale that may have happened without a receipt.
        kill_points=(points.IN_CRITICAL,),
        setup=setup,
        opens_store=False,
    )


def connect(target: str, spec: Spec, buyer: int, time_left: float) -> tuple[Wire, dict[str, str], str | None]:
    """A buyer's connection, opened now (before the start barrier), and its login's values; the third item is
    why the login failed (its attempts are then errors), else None."""
    wire = Wire(target, max(time_left, 0.1))
    try:
        wire.connect()
    except OSError as exc:
        raise ServiceUnavailable(_("the service did not answer: {why}").format(why=one_line(exc))) from None
    values = spec.values(buyer)
    if not spec.logins:
        return wire, values, None
    values, missing = log_in(wire, spec, values, buyer)
    return wire, values, missing


def buy_request(spec: Spec, values: dict[str, str], buyer: int) -> tuple[str, str, list[tuple[str, str]], bytes]:
    method, path, headers, body = encode(spec.buy, values, buyer)
    if COOKIES in values:  # every cookie the login's answers set, as a browser sends them back
        headers.append(("Cookie", values[COOKIES]))
    return method, path, headers, body


class ServiceUnavailable(Unavailable):
    """The service stopped answering during the run (refused, reset, timed out): the run could not be
    carried out, whatever its strategy."""


def _send(target: str, spec: Spec, ctx: BuyerContext, rec: Attempt) -> None:
    if ctx.local["login"] is not None:
        ctx.point(points.BEFORE_LOCK)  # still takes part in the round
        rec.outcome, rec.error = Outcome.ERROR, ctx.local["login"]
        return
    from booking.strategies.target.http2 import send_http2

    if spec.http == HTTP2:
        reply = send_http2(target, spec, buy_request(spec, ctx.local["values"], ctx.buyer), ctx, rec)
    else:
        reply = _send_http1(spec, ctx, rec)
    rec.answered_at, rec.arrived_at, rec.status = time.time(), arrival(reply.headers), reply.status
    answer = judge(spec, reply.status, reply.body)
    rec.served_by = answer.worker
    rec.outcome, rec.error = answer.outcome, answer.error
    if answer.outcome is Outcome.OK:
        rec.ticket, rec.t_write = answer.ticket, ctx.clock()


def _send_http1(spec: Spec, ctx: BuyerContext, rec: Attempt) -> Reply:
    wire: Wire = ctx.local["wire"]
    request = wire.encode(*buy_request(spec, ctx.local["values"], ctx.buyer))
    held = spec.sync == LAST_BYTE
    handed = False
    if held:
        wire.hold(request)  # all but the last byte, before the window
        handed = ctx.made.last_bytes is not None and wire.hand(ctx.made.last_bytes, ctx.buyer)
    ctx.point(points.BEFORE_LOCK)  # the window: lockstep lets every buyer send at once
    went = written_at(ctx.said()) if handed else None
    if went is not None:  # the parent wrote this buyer's last byte, with everyone's, at `went`
        wire.released()
        rec.t_sent, rec.released = ctx.clock() - (time.monotonic() - went), True
    else:
        if not held:
            wire.hold(request)
        wire.release()
        rec.t_sent = ctx.clock()
        ctx.tell("sent")  # watched: "request sent" is said when it goes (the parent's line says it otherwise)
    points.hit(points.IN_CRITICAL)  # --kill-at in-critical: the request is out, the answer not read
    return wire.read()
