"""--lock queue --broker URL: requests through a real RabbitMQ, acknowledged by hand; at-least-once delivery.

A seller killed after a sale and before its acknowledgement leaves the request on the queue: the broker
delivers it again, and a seller that is not --idempotent sells it again (UNSAFE, the redelivery named);
an --idempotent one answers it from the record of the sale (OK). Real broker, real processes, no fakes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from booking import RunConfig, simulate
from booking.errors import BadInput
from booking.render.stories import said
from booking.stores import init_store

DEADLINE_S = 60.0  # reached only when something hangs


def killed_after_sale(store: Path, broker: str, idempotent: bool, tickets: int = 3) -> RunConfig:
    return RunConfig(
        buyers=6, tickets=tickets, store=str(store), strategy="queue", broker=broker, idempotent=idempotent,
        kill_seller=1, kill_at="after-sale", deadline_s=DEADLINE_S,
    )  # fmt: skip


def check_redelivered(store: Path, broker: str, idempotent: bool) -> None:
    result = simulate(killed_after_sale(store, broker, idempotent))
    redelivered = [a for a in result.history.attempts if a.redelivered]
    assert len(redelivered) == 1, result.history.attempts  # the request the killed seller held, delivered again
    assert redelivered[0].seller == 2  # to the seller started in the killed one's place
    assert [e.who for e in result.history.killed] == ["seller"]
    words = said(result)
    if idempotent:
        assert result.verdict.ok, words
        assert result.exit_code == 0
        assert result.verdict.sold == 3 and result.verdict.remaining == 0
    else:
        assert result.verdict.unsafe and result.exit_code == 1, words
        assert [a.kind for a in result.verdict.anomalies] == ["unreceipted"]
        assert result.verdict.unreceipted == 1  # one request, two sales: the store counts one more than receipts
        story = " ".join(s for a in words["anomalies"] for s in a["story"])
        assert f"buyer {redelivered[0].buyer}'s request was redelivered by the broker to seller 2" in story


@pytest.mark.parametrize("idempotent", [False, True], ids=["at-least-once", "idempotent"])
def test_a_seller_killed_after_the_sale_has_its_request_redelivered(
    tmp_path: Path, broker_url: str, idempotent: bool
) -> None:
    check_redelivered(tmp_path / "db.json", broker_url, idempotent)


@pytest.mark.slow
@pytest.mark.parametrize("idempotent", [False, True], ids=["at-least-once", "idempotent"])
def test_sweep_redelivery(tmp_path: Path, broker_url: str, idempotent: bool) -> None:
    for _ in range(10):
        check_redelivered(tmp_path / "db.json", broker_url, idempotent)


def test_the_acceptance_command(tmp_path: Path, broker_url: str) -> None:
    """The defaults (10 buyers, 1 ticket): the redelivered request finds the stock gone, its sale nobody's."""
    from tests.helpers import run_command

    base = ("simulate", "--lock", "queue", "--broker", broker_url, "--kill-seller", "1", "--kill-at", "after-sale")
    bare = run_command(*base, cwd=tmp_path)
    assert bare.code == 1, bare
    assert "redelivered by the broker" in bare.flat
    assert ":guest@" not in bare.out + bare.err  # the password masked
    assert run_command(*base, "--idempotent", cwd=tmp_path).code == 0


def test_sellers_in_another_invocation_consume_the_run(tmp_path: Path, broker_url: str) -> None:
    store = tmp_path / "shop.sqlite"
    init_store(str(store), 4)
    seller = subprocess.Popen(
        [sys.executable, "-m", "booking", "seller", "--broker", broker_url, "--store", str(store),
         "--seller-lock", "file-lock", "--number", "7", "--deadline", str(DEADLINE_S)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        config = RunConfig(buyers=5, tickets=4, store=str(store), strategy="queue", broker=broker_url, sellers=0)
        result = simulate(config)
    finally:
        seller.terminate()
        out, err = seller.communicate(timeout=DEADLINE_S)
    assert seller.returncode == 0, err
    assert result.verdict.ok, said(result)
    assert result.verdict.sold == 4
    assert {a.seller for a in result.history.attempts} == {7}
    assert {(a.served_by or "").rsplit(":", 1)[-1] for a in result.history.attempts} == {str(seller.pid)}
    assert "answered 5" in out


def test_an_unreachable_broker_or_a_wrong_password_is_one_line_exit_3(tmp_path: Path, broker_url: str, cli) -> None:  # type: ignore[no-untyped-def]
    wrong = broker_url.replace("guest:guest@", "guest:n0tThePassw0rd@")
    away = "amqp://guest:s3cr3tpw@127.0.0.1:1/"
    for url, why in ((wrong, "refused the login"), (away, "cannot reach the broker")):
        ran = cli("simulate", "--store", tmp_path / "db.json", "--lock", "queue", "--broker", url)
        assert ran.code == 3
        assert why in ran.err and len(ran.err.strip().splitlines()) == 1
        assert "n0tThePassw0rd" not in ran.err + ran.out and "s3cr3tpw" not in ran.err + ran.out


@pytest.mark.parametrize(
    "options",
    [
        {"broker": "amqp://guest:guest@127.0.0.1:5672/"},  # --broker without --lock queue
        {"idempotent": True, "strategy": "queue"},  # --idempotent without --broker
        {"strategy": "queue", "kill_seller": 1, "kill_at": "after-sale"},  # a JoinableQueue seller never acks
        {"strategy": "queue", "sellers": 0},  # nobody to sell without a broker
    ],
)
def test_options_that_need_a_broker_are_refused(tmp_path: Path, options: dict[str, object]) -> None:
    with pytest.raises(BadInput):
        simulate(RunConfig(store=str(tmp_path / "db.json"), **options))  # type: ignore[arg-type]
