"""A target's stock read over HTTP before and after the run (`[stock] path, pointer`): what the endpoint says.

booking cannot seed an endpoint's stock, so the count before the run is read, never assumed from
--tickets: a stock left at 3 by an earlier run, taken for 1, would judge a fixed endpoint's two sales
an oversell. A --tickets given is what you say you reset it to: checked against the count, not used."""

from __future__ import annotations

import h11

from booking.errors import BadInput, CannotRun
from booking.i18n.lang import _
from booking.i18n.words import one_line
from booking.stores.base import FinalState
from booking.stores.own import UNREAD, OwnTables
from booking.strategies.target.answer import answer_json, first_bytes, pointer
from booking.strategies.target.fill import encode
from booking.strategies.target.spec import Request, Spec
from booking.strategies.target.wire import Wire


class HttpStock(OwnTables):
    """No store: the endpoint's own stock, set by its `[reset]` request before each run where the file has
    one, and read by its `[stock]` GET (before the run, to check, and after it), where the file has one."""

    def __init__(self, target: str, spec: Spec, said: int | None = None) -> None:
        super().__init__(None, None, None)
        self._said, self._spec, self._target = said, spec, target
        self._path, self._pointer = spec.stock_path or "/", spec.stock_pointer or ""
        self.display = f"GET {self._path} {self._pointer}".rstrip() if spec.stock_path else UNREAD

    def prepare(self, seed: int | None, force: bool = False, beside: bool = False) -> int:
        reset = self._spec.reset
        if reset is not None and seed is not None:
            self._reset(reset, seed)
        if self._spec.stock_path is None:  # the reset is all there is: the stock is as it set it
            return seed if seed is not None else super().prepare(seed)
        left = self._left()  # whatever the run would have seeded: the endpoint's stock is its own
        if reset is not None and seed is not None and left != seed:
            raise CannotRun(
                _("[reset] {method} {path} answered, but GET {stock} says {left} left, not {n}").format(
                    method=reset.method, path=reset.path, stock=self._path, left=left, n=seed
                )
            )
        if reset is None and self._said is not None and left != self._said:
            raise BadInput(
                _("--tickets {n}, but GET {path} says {left} left: reset the endpoint's stock, or leave --tickets out")
                .format(n=self._said, path=self._path, left=left)
            )  # fmt: skip
        return left

    def final(self) -> FinalState | None:
        return FinalState(self._left()) if self._spec.stock_path is not None else None

    def _reset(self, reset: Request, tickets: int) -> None:
        """The file's [reset] request, {tickets} filled: a 2xx, or the run cannot start (the store untouched)."""
        wire = Wire(self._target, 10.0)
        method, path, headers, body = encode(reset, {**dict(self._spec.vars), "tickets": str(tickets)}, 0)
        try:
            wire.connect()
            reply = wire.exchange(wire.encode(method, path, headers, body))
        except (OSError, h11.ProtocolError) as exc:
            raise CannotRun(
                _("[reset] {method} {path}: {why}").format(method=method, path=path, why=one_line(exc))
            ) from None
        finally:
            wire.close()
        if not 200 <= reply.status < 300:
            raise CannotRun(
                _("[reset] {method} {path} answered {status}: {body}").format(
                    method=method, path=path, status=reply.status, body=first_bytes(reply.body)
                )
            )

    def _left(self) -> int:
        wire = Wire(self._target, 10.0)
        try:
            wire.connect()
            reply = wire.exchange(wire.encode("GET", self._path, [], b""))
        except (OSError, h11.ProtocolError) as exc:
            raise CannotRun(_("stock GET {path}: {why}").format(path=self._path, why=one_line(exc))) from None
        finally:
            wire.close()
        left = pointer(answer_json(reply.body), self._pointer)
        if isinstance(left, bool) or not isinstance(left, int) or left < 0:
            raise CannotRun(
                _("stock GET {path} answered {status}: no count at {where}: {body}").format(
                    path=self._path, status=reply.status, where=self._pointer, body=first_bytes(reply.body)
                )
            )
        return left
