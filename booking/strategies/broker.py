"""The message broker behind `--lock queue --broker URL`: RabbitMQ over AMQP 0-9-1, through pika.

Buyers publish their requests, persistent, on a durable queue (`booking-requests`, or the URL's
`?queue=NAME`); sellers, in this run or in `booking seller` anywhere that reaches the broker and the
store, consume them with manual acknowledgements and answer on RabbitMQ's direct reply-to. A seller
that dies after a sale and before its acknowledgement leaves the request unacknowledged: the broker
delivers it again (at least once, never exactly once).

pika, not kombu or aio-pika: booking's buyers and sellers are one synchronous process each, and
pika's BlockingConnection is exactly that (no event loop, no transport abstraction between booking
and the acknowledgement it shows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from booking.errors import CannotRun
from booking.i18n.lang import _
from booking.options.store_url import masked_url, url_secrets
from booking.redact import redact

DEFAULT_QUEUE = "booking-requests"
REPLY_TO = "amq.rabbitmq.reply-to"  # RabbitMQ's direct reply-to: no queue per buyer
CONNECT_S = 5.0
SCHEMES = ("amqp://", "amqps://")


@dataclass(frozen=True)
class Broker:
    """A broker URL parsed once: the URL pika is given, the queue, and the form people see."""

    text: str  # as given
    amqp: str  # without booking's own ?queue= parameter
    queue: str

    @classmethod
    def parse(cls, text: str) -> Broker:
        from booking.errors import BadInput

        if not text.startswith(SCHEMES):
            raise BadInput(_("--broker: {url} is not an amqp:// URL").format(url=masked_url(text)))
        head, _q, query = text.partition("?")
        pairs = parse_qsl(query, keep_blank_values=True)
        queue = next((v for k, v in pairs if k == "queue"), DEFAULT_QUEUE) or DEFAULT_QUEUE
        rest = urlencode([(k, v) for k, v in pairs if k != "queue"])
        return cls(text, head + ("?" + rest if rest else ""), queue)

    @property
    def display(self) -> str:
        return masked_url(self.text)

    @property
    def secrets(self) -> frozenset[str]:
        return url_secrets(self.text)


def pika_module() -> Any:
    try:
        import pika
    except ImportError:
        raise CannotRun(_("--broker needs pika: pip install 'booking-race-lab[broker]'")) from None
    return pika


def connect(broker: Broker, error: type[Exception] = CannotRun) -> Any:
    """A blocking connection to the broker, or `error` in one line (the password masked)."""
    pika = pika_module()
    try:
        params = pika.URLParameters(broker.amqp)
        params.socket_timeout = params.blocked_connection_timeout = CONNECT_S
        params.connection_attempts = 1
        return pika.BlockingConnection(params)
    except pika.exceptions.ProbableAuthenticationError:
        why = _("the broker refused the login (check the user and password)")
    except pika.exceptions.ProbableAccessDeniedError:
        why = _("the broker refused access to the virtual host")
    except (pika.exceptions.AMQPError, OSError, ValueError) as exc:
        why = _("cannot reach the broker ({error})").format(error=type(exc).__name__)
    raise error(redact(_("broker {broker}: {why}").format(broker=broker.display, why=why), broker.secrets))


def declare(channel: Any, broker: Broker) -> None:
    """The durable request queue (idempotent: every buyer and seller declares it the same way)."""
    channel.queue_declare(queue=broker.queue, durable=True)


def check_broker(text: str) -> Broker:
    """Reachable, logged in, the queue declared: else CannotRun (exit 3) before the store is touched."""
    broker = Broker.parse(text)
    conn = connect(broker)
    try:
        declare(conn.channel(), broker)
    except pika_module().exceptions.AMQPError as exc:
        said = _("broker {broker}: queue {queue}: {error}").format(
            broker=broker.display, queue=broker.queue, error=type(exc).__name__
        )
        raise CannotRun(said) from None
    finally:
        if conn.is_open:
            conn.close()
    return broker
