"""A target read from `--target-config race.toml` (tomllib) or `--target-map`, checked before anything runs:
every problem is one line naming the file and the key (BadInput, exit 2)."""

from __future__ import annotations

import csv
import re
import tomllib
from pathlib import Path
from typing import Any

from booking.errors import BadInput
from booking.i18n.lang import _
from booking.strategies.contract import Mapping, parse_map
from booking.strategies.target.login import COOKIE_PREFIX, names_used
from booking.strategies.target.spec import HTTP1, HTTP2, LAST_BYTE, NO_SYNC, Login, Request, Rule, Spec

TOP = {
    "url",
    "sync",
    "http",
    "health",
    "worker",
    "buyers-from",
    "vars",
    "buy",
    "login",
    "success",
    "sold-out",
    "declined",
    "stock",
    "reset",
}
REQUEST = {"method", "path", "json", "form", "headers"}
TABLES = {
    "buy": REQUEST,
    "login": REQUEST | {"token", "token-regex", "cookie"},
    "success": {"status", "receipt", "receipt-regex"},
    "sold-out": {"status", "body"},
    "declined": {"status", "body"},
    "stock": {"path", "pointer"},
    "reset": REQUEST,
}
METHOD = re.compile(r"[A-Z]+")


class Problem(BadInput):
    pass


def bad(source: str, key: str, problem: str) -> Problem:
    return Problem(_("{source}: {key}: {problem}").format(source=source, key=key, problem=problem))


def from_map(spec: str | None) -> Spec:
    """booking's contract, or where --target-map says the service differs."""
    m: Mapping = parse_map(spec)
    *outer, last = m.buyer.split(".")
    body: dict[str, Any] = {last: "{buyer}"}
    for part in reversed(outer):
        body = {part: body}
    buy = Request(method=m.method, path=m.path, json=body)
    return Spec(
        buy=buy,
        receipt=m.ticket,
        sold_out=Rule(m.sold_out),
        declined=Rule(m.declined),
        worker=m.worker,
        health=m.health,
        source="--target-map",
    )


def from_file(path: str, buyers_from: str | None = None) -> tuple[str | None, Spec]:
    """(the url it names, the Spec) from a TOML file."""
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadInput(_("--target-config {path}: cannot read it: {why}").format(path=path, why=exc.strerror)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        why = str(exc).splitlines()[0]
        raise BadInput(_("--target-config {path}: not TOML: {why}").format(path=path, why=why)) from None
    return from_dict(data, path, file.parent, buyers_from)


def from_dict(data: dict[str, Any], source: str, base: Path, buyers_from: str | None = None) -> tuple[str | None, Spec]:
    _keys(data, TOP, source, "")
    for table, allowed in TABLES.items():
        if table in data:
            steps = data[table] if table == "login" and isinstance(data[table], list) else [data[table]]
            for step in steps:  # [[login]]: the login's steps, in order
                if not isinstance(step, dict):
                    raise bad(source, table, _("expected a table ([{table}])").format(table=table))
                _keys(step, allowed, source, table + ".")
    if "buy" not in data or "path" not in data["buy"]:
        raise bad(source, "buy.path", _("required: the path the buy is sent to"))
    success = data.get("success", {})
    if not ({"receipt", "receipt-regex"} & success.keys()):
        raise bad(
            source, "success.receipt", _('required: a JSON pointer to the ticket id, or "none" (judged by stock)')
        )
    login = data.get("login", [])
    logins = tuple(_login(step, source) for step in (login if isinstance(login, list) else [login]))
    receipt = success.get("receipt", None)
    spec = Spec(
        buy=_request(data["buy"], source, "buy"),
        logins=logins,
        success=_rule(success, source, "success", Rule(status=tuple(range(200, 300)))),
        receipt=None if receipt in (None, "none") else _pointer(receipt, source, "success.receipt"),
        receipt_regex=_regex(success.get("receipt-regex"), source, "success.receipt-regex", group=True),
        sold_out=_rule(data.get("sold-out", {}), source, "sold-out", Rule()),
        declined=_rule(data.get("declined", {}), source, "declined", Rule()),
        worker=_pointer(data["worker"], source, "worker") if "worker" in data else None,
        health=_path(data.get("health", "/"), source, "health"),
        sync=_sync(data.get("sync", LAST_BYTE), source),
        reset=_request(data["reset"], source, "reset") if "reset" in data else None,
        http=_http(data.get("http", HTTP1), source),
        stock_path=_path(data["stock"]["path"], source, "stock.path") if "stock" in data else None,
        stock_pointer=_pointer(data.get("stock", {}).get("pointer", ""), source, "stock.pointer")
        if "stock" in data
        else None,
        vars=tuple((str(k), str(v)) for k, v in _table(data.get("vars", {}), source, "vars").items()),
        buyers=_rows(buyers_from or data.get("buyers-from"), base if not buyers_from else Path("."), source),
        source=source,
    )
    _clash(spec, source)
    _known(spec, source)
    url = data.get("url")
    if url is not None and not isinstance(url, str):
        raise bad(source, "url", _("expected text: http://HOST:PORT"))
    return url, spec


def _keys(table: dict[str, Any], allowed: set[str], source: str, prefix: str) -> None:
    for key in table:
        if key not in allowed:
            raise bad(
                source, prefix + key, _("unknown key (choose from: {keys})").format(keys=", ".join(sorted(allowed)))
            )


def _table(value: Any, source: str, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad(source, key, _("expected a table of names and values"))
    return value


def _request(t: dict[str, Any], source: str, key: str) -> Request:
    method = str(t.get("method", "POST")).upper()
    if not METHOD.fullmatch(method):
        raise bad(source, key + ".method", _("an HTTP method, got {value!r}").format(value=t.get("method")))
    if "json" in t and "form" in t:
        raise bad(source, key, _("json or form: choose one"))
    form = _table(t["form"], source, key + ".form") if "form" in t else None
    headers = _table(t.get("headers", {}), source, key + ".headers")
    return Request(
        method=method,
        path=_path(t.get("path", "/"), source, key + ".path"),
        json=t.get("json"),
        form=None if form is None else tuple((str(k), str(v)) for k, v in form.items()),
        headers=tuple((str(k), str(v)) for k, v in headers.items()),
    )


def _login(t: dict[str, Any], source: str) -> Login:
    """One login step. Its cookies are kept whatever it names, so a step may name nothing (a form's page)."""
    if "token" in t and "token-regex" in t:
        raise bad(source, "login", _("token or token-regex: one way to read the token"))
    token = _pointer(t["token"], source, "login.token") if "token" in t else None
    regex = _regex(t.get("token-regex"), source, "login.token-regex", group=True)
    return Login(_request(t, source, "login"), token, str(t["cookie"]) if "cookie" in t else None, regex)


def _rule(t: dict[str, Any], source: str, key: str, default: Rule) -> Rule:
    if not t:
        return default
    status = t.get("status", list(default.status))  # [success] with only its receipt: any 2xx still
    status = [status] if isinstance(status, int) else status
    if not isinstance(status, list) or not all(isinstance(s, int) and 100 <= s <= 599 for s in status):
        raise bad(source, key + ".status", _("HTTP statuses, e.g. [409, 410]"))
    return Rule(tuple(status), _regex(t.get("body"), source, key + ".body"))


def _regex(value: Any, source: str, key: str, group: bool = False) -> str | None:
    if value is None:
        return None
    try:
        compiled = re.compile(str(value))
    except re.error as exc:
        raise bad(source, key, _("not a regular expression: {why}").format(why=exc)) from None
    if group and compiled.groups < 1:
        raise bad(source, key, _("needs a group around the ticket id, e.g. ticket (\\d+)"))
    return str(value)


def _pointer(value: Any, source: str, key: str) -> str:
    if not isinstance(value, str) or (value and not value.startswith("/")):  # "": the whole answer (RFC 6901)
        raise bad(source, key, _("a JSON pointer such as /ticket or /seat/id, got {value!r}").format(value=value))
    return value


def _path(value: Any, source: str, key: str) -> str:
    if not isinstance(value, str) or not value.startswith("/") or any(c.isspace() for c in value):
        raise bad(source, key, _("a path starting with /, got {value!r}").format(value=value))
    return value


def _sync(value: Any, source: str) -> str:
    if value not in (LAST_BYTE, NO_SYNC):
        raise bad(source, "sync", _("{a} or {b}, got {value!r}").format(a=LAST_BYTE, b=NO_SYNC, value=value))
    return str(value)


def _http(value: Any, source: str) -> str:
    if str(value) not in (HTTP1, HTTP2) or isinstance(value, bool):
        raise bad(source, "http", _('"{a}" or "{b}", got {value!r}').format(a=HTTP1, b=HTTP2, value=value))
    return str(value)


def _rows(path: Any, base: Path, source: str) -> tuple[tuple[tuple[str, str], ...], ...]:
    if path is None:
        return ()
    file = base / str(path)
    try:
        with file.open(newline="", encoding="utf-8") as f:
            rows = [tuple((k, v or "") for k, v in row.items() if k) for row in csv.DictReader(f)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise bad(source, "buyers-from", _("cannot read {file}: {why}").format(file=file, why=exc)) from None
    if not rows:
        raise bad(source, "buyers-from", _("{file} has a header line and no buyers").format(file=file))
    return tuple(rows)


def _clash(spec: Spec, source: str) -> None:
    for a, b, ra, rb in (("sold-out", "declined", spec.sold_out, spec.declined),):
        same = set(ra.status) & set(rb.status)
        if same and ra.body is None and rb.body is None:
            raise bad(
                source,
                a,
                _("status {status} also means {other}: tell them apart by body").format(status=min(same), other=b),
            )


def _known(spec: Spec, source: str) -> None:
    known = {"buyer"} | {k for k, _v in spec.vars} | {k for row in spec.buyers[:1] for k, _v in row}
    cookies = False  # {cookie_NAME}: any cookie an earlier step set (whether it did is checked as it runs)
    for step in spec.logins:  # each step may use what the steps before it gave
        unknown = {n for n in _used(step.request) - known if not (cookies and n.startswith(COOKIE_PREFIX))}
        if unknown:
            raise bad(source, "login", _("unknown template name {{{name}}}").format(name=min(unknown)))
        known |= {"token"} if step.token or step.token_regex else set()
        known |= {"cookie"} if step.cookie else set()
        cookies = True
    unknown = {n for n in _used(spec.buy) - known if not (cookies and n.startswith(COOKIE_PREFIX))}
    if unknown:
        raise bad(source, "buy", _("unknown template name {{{name}}}").format(name=min(unknown)))
    unknown = _used(spec.reset) - {"tickets"} - {k for k, _v in spec.vars} if spec.reset else set()
    if unknown:
        raise bad(source, "reset", _("unknown template name {{{name}}}").format(name=min(unknown)))


def _used(r: Request) -> set[str]:
    return names_used(r)
