"""What your purchase function can answer: a ticket id, None (sold out), or declined.

Declined is a correct refusal: the purchase lost a race it detected (a compare-and-swap that found
the row changed, a serialization failure it gave up on) and turned the buyer away. It is an
availability cost, counted as `declined`, never as an anomaly or as `undersold`.
"""

from __future__ import annotations


class Declined(Exception):
    """Raise it from your purchase function to turn this buyer away after a lost race: `raise Declined("why")`."""


class _DeclinedType:
    """The value your purchase function may return instead of raising Declined."""

    def __repr__(self) -> str:
        return "booking.DECLINED"

    def __reduce__(self) -> str:
        return "DECLINED"  # one object in every process


DECLINED = _DeclinedType()
