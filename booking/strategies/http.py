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
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from booking.errors import BadInput, CannotRun, Unavailable
from booking.history import Attempt, Outcome
from booking.i18n.lang import _
from booking.i18n.words import one_line
from booking.kit import points
from booking.options.config import RunConfig
from booking.options.store_url import masked_url, url_secrets
from booking.strategies.base import ANY_STORE, BuyerContext, StrategyInfo
from booking.strategies.contract import RUN, Mapping, judge, parse_map

if TYPE_CHECKING:
    import httpx

MAX_ANSWER = 64 * 1024  # an answer is read no further than this: a purchase's answer is a few bytes
PROBE_TIMEOUT_S = 5.0  # an unreachable target is an error within seconds, as an unreachable database is
NAME = "http"


def check_target(config: RunConfig) -> Mapping:
    """Refuse what cannot go with --target (before anything is touched); the mapping to use."""
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
    return parse_map(config.target_map)


def _client(target: str, timeout: float) -> httpx.Client:
    import httpx

    # Plain http needs no TLS: verify=False spares each buyer loading the CA bundle (~80 ms of CPU apiece).
    # TCP_NODELAY: httpx writes a POST's headers and its body separately; the body must not wait on Nagle.
    transport = httpx.HTTPTransport(
        verify=urlsplit(target).scheme == "https", socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    )
    return httpx.Client(base_url=target, timeout=timeout, trust_env=False, transport=transport)


def probe(target: str, mapping: Mapping) -> dict[str, Any] | None:
    """Before the run, in the parent: the target answers (else CannotRun, exit 3); booking's own service also
    says what it runs (GET /run), which the run's header shows. None for a service that does not say."""
    try:
        import httpx
    except ModuleNotFoundError:
        raise CannotRun(_("--target needs httpx: pip install 'booking-race-lab[service]'")) from None
    with _client(target, PROBE_TIMEOUT_S) as client:
        try:
            client.get(mapping.health)
            about = client.get(RUN)
        except httpx.HTTPError as exc:
            raise CannotRun(
                _("target {target}: cannot reach it: {why}").format(
                    target=masked_url(target), why=one_line(exc, url_secrets(target))
                )
            ) from None
    try:
        data = about.json() if about.status_code == 200 else None
    except ValueError:
        return None
    return data if isinstance(data, dict) and data.get("service") == "booking" else None


def served(config: RunConfig) -> str:
    """What the header says about the target: booking serve's strategy, scope and workers; "" for another service."""
    about = probe(config.target or "", parse_map(config.target_map))
    if about is None:
        return ""
    workers = about.get("workers")
    return f"booking serve: {about.get('strategy')}, {about.get('scope')}, {workers} workers"[:200]


def http_strategy(target: str, target_map: str | None) -> StrategyInfo:
    """The buyers' strategy for `--target`: a request per purchase, held before it in lockstep."""
    mapping = parse_map(target_map)

    def setup(ctx: BuyerContext) -> None:
        client = _client(target, max(ctx.time_left(), 0.1))
        client.get(mapping.health)  # the connection is opened now, before the start barrier
        ctx.local["client"] = client

    def purchase(store: Any, ctx: BuyerContext, rec: Attempt) -> None:
        import httpx

        client: httpx.Client = ctx.local["client"]
        ctx.point(points.BEFORE_LOCK)  # the window: lockstep lets every buyer send at once
        try:
            answer = _send(client, mapping, ctx)
        except httpx.TransportError as exc:  # refused, reset, timed out: the service failed, not its strategy
            raise ServiceUnavailable(_("the service did not answer: {why}").format(why=one_line(exc))) from None
        rec.served_by = answer.worker
        rec.outcome, rec.error = answer.outcome, answer.error
        if answer.outcome is Outcome.OK:
            rec.ticket, rec.t_write = answer.ticket, ctx.clock()

    return StrategyInfo(
        NAME,
        "each purchase is an HTTP request to the service; the service's own strategy protects it",
        "whatever the service protects",
        ANY_STORE,
        safe=False,
        window=points.BEFORE_LOCK,
        purchase=purchase,
        # From the request sent to the answer read, the purchase is in the service's hands: a buyer
        # killed there leaves a sale that may have happened without a receipt.
        kill_points=(points.IN_CRITICAL,),
        setup=setup,
        opens_store=False,
    )


class ServiceUnavailable(Unavailable):
    """The service stopped answering during the run (refused, reset, timed out): the run could not be
    carried out, whatever its strategy."""


def _send(client: httpx.Client, mapping: Mapping, ctx: BuyerContext) -> Any:
    def trace(event: str, info: Any) -> None:
        if event == "http11.send_request_body.complete":
            points.hit(points.IN_CRITICAL)  # --kill-at in-critical: the request is out, the answer not read

    request = client.build_request(
        mapping.method,
        mapping.path,
        json=mapping.body(ctx.buyer),
        timeout=max(ctx.time_left(), 0.1),
        extensions={"trace": trace},
    )
    response = client.send(request, stream=True)
    try:
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > MAX_ANSWER:
                break  # enough to judge it; the rest is not ours to hold
    finally:
        response.close()
    return judge(mapping, response.status_code, bytes(body[:MAX_ANSWER]))
