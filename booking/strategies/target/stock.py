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
from booking.stores.own import OwnTables
from booking.strategies.target.answer import answer_json, first_bytes, pointer
from booking.strategies.target.spec import Spec
from booking.strategies.target.wire import Wire


class HttpStock(OwnTables):
    """No store: the endpoint's own GET says how many tickets are left."""

    def __init__(self, target: str, spec: Spec, said: int | None = None) -> None:
        super().__init__(None, None, None)
        self._said = said
        self._target, self._path, self._pointer = target, spec.stock_path or "/", spec.stock_pointer or "/"
        self.display = f"GET {self._path} {self._pointer}"

    def prepare(self, seed: int | None, force: bool = False, beside: bool = False) -> int:
        left = self._left()  # whatever the run would have seeded: the endpoint's stock is its own
        if self._said is not None and left != self._said:
            raise BadInput(
                _("--tickets {n}, but GET {path} says {left} left: reset the endpoint's stock, or leave --tickets out")
                .format(n=self._said, path=self._path, left=left)
            )  # fmt: skip
        return left

    def final(self) -> FinalState | None:
        return FinalState(self._left())

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
