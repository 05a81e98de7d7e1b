"""`booking seller`: one broker seller in its own invocation (another terminal, another host)."""

from __future__ import annotations

from typing import Annotated

import typer

from booking.i18n.lang import _
from booking.options.choices import STORE_HELP


def seller_command(
    broker: Annotated[str, typer.Option(help="The RabbitMQ broker, as the run's --broker URL.", metavar="URL")],
    store: Annotated[str, typer.Option(help=STORE_HELP)] = "db.json",
    seller_lock: Annotated[
        str, typer.Option(help="The strategy this seller writes under (every client's: none, file-lock, atomic...).")
    ] = "none",
    idempotent: Annotated[
        bool, typer.Option("--idempotent", help="Answer a redelivered request from the record of its sale.")
    ] = False,
    deadline: Annotated[
        float | None, typer.Option(help="Stop after S seconds [default: when stopped].", metavar="S")
    ] = None,
    number: Annotated[int, typer.Option(help="This seller's number in the answers and the history.")] = 1,
) -> int:
    """Sell a --broker run's requests from another invocation.

    Consumes the broker's queue with manual acknowledgements until SIGINT, SIGTERM or --deadline, and
    sells from --store (the run's store, as reached from here). Start it, then run the buyers with
    --sellers 0.

    Example: booking seller --broker amqp://guest:guest@127.0.0.1:5672/ --store shop.sqlite --seller-lock file-lock

    Example: booking simulate --store shop.sqlite --lock queue --broker amqp://guest:guest@127.0.0.1:5672/ --sellers 0
    """
    import booking

    answered = booking.sell(broker, store, seller_lock, idempotent, deadline, number)
    typer.echo(_("seller {n}: answered {answered}").format(n=number, answered=answered))
    return 0
