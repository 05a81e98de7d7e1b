"""`booking compare`: the matrix, its statistics, its formats, and the regression exit code."""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from booking.history import Attempt, Outcome
from booking.kit.points import AFTER_READ, BEFORE_LOCK
from booking.stores.base import Store, StoreKind
from booking.strategies import STRATEGIES, BuyerContext, Needs, StrategyInfo
from booking.strategies.base import ANY_STORE
from booking.strategies.locks import _mp_lock

# Two repetitions of 0.1 s per cost cell: enough for an interval, the least that makes one.
SMALL = [
    "--buyers",
    "1,4",
    "--trials",
    "2",
    "--tickets",
    "6",
    "--duration",
    "0.1",
    "--repetitions",
    "2",
    "--budget",
    "0",
]


def _cell_fields() -> set[str]:
    import dataclasses

    from booking.compare.cells import Cell

    # the cell's witness run is carried as its timeline (its stories and lanes, drawn by the report)
    return {"timeline" if f.name == "witness" else f.name for f in dataclasses.fields(Cell)}


@pytest.fixture(scope="module")
def report_json(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from booking.cli import main

    out = tmp_path_factory.mktemp("cmp") / "report.json"
    store = out.parent / "db.json"
    assert main(["compare", "--stores", str(store), *SMALL, "--format", "json", "--out", str(out)]) == 0
    return json.loads(out.read_text())  # type: ignore[no-any-return]


class TestJson:
    def test_top_level_fields(self, report_json: dict[str, Any]) -> None:
        assert set(report_json) == {
            "command", "versions", "machine", "config", "elapsed_s", "partial", "runs", "ok", "regressions",
            "cells", "conclusions", "advice", "skipped",
        }  # fmt: skip
        assert report_json["ok"] is True and report_json["partial"] == ""
        assert report_json["command"].startswith("booking compare --stores ")
        assert {"python", "booking", "filelock"} <= set(report_json["versions"])
        assert {"cpu", "cores", "os", "load_at_start", "servers"} <= set(report_json["machine"])

    def test_every_cell_has_every_field(self, report_json: dict[str, Any]) -> None:
        cells = report_json["cells"]
        counter = [s for s in STRATEGIES.values() if StoreKind.COUNTER in s.stores]
        # cost at 1 and 4 buyers; correctness at 4 only (one buyer cannot race)
        assert len(cells) == len(counter) * 3
        for cell in cells:
            assert set(cell) == _cell_fields()
            assert cell["store"] == "db.json"  # labelled by kind, never by its temporary path

    def test_correctness_cells(self, report_json: dict[str, Any]) -> None:
        """The race shows in lockstep with 4 buyers; the locks never."""
        for cell in (c for c in report_json["cells"] if c["question"] == "correctness"):
            assert cell["schedule"] == "lockstep" and cell["buyers"] == 4
            low, high = cell["anomaly_ci95"]
            assert low <= cell["anomaly_probability"] <= high
            if cell["strategy"] == "none":
                assert cell["anomaly_runs"] == 2 and cell["oversold_max"] > 0
            else:
                assert cell["anomaly_runs"] == 0, cell
            assert cell["throughput_mean"] is None  # lockstep cells answer correctness only

    def test_cost_cells_measure_after_the_last_buyer_is_ready(self, report_json: dict[str, Any]) -> None:
        """Every cost window opened after the last buyer said it was ready, by the trials' own data."""
        costs = [c for c in report_json["cells"] if c["question"] == "cost"]
        assert costs
        for cell in costs:
            assert cell["after_ready"] is True and cell["ready_margin_ms"] >= 0, cell
            low, high = cell["throughput_ci95"]
            assert cell["throughput_mean"] > 0 and low <= cell["throughput_mean"] <= high
            assert cell["latency_p50_ms"] <= cell["latency_p95_ms"] <= cell["latency_p99_ms"]
            assert 0 < cell["fairness"] <= 1 and cell["batches"] >= 5

    def test_ratios_are_against_a_safe_reference(self, report_json: dict[str, Any]) -> None:
        """mp-lock (db.json's default) is the reference; none is marked unsafe and never compared."""
        for cell in (c for c in report_json["cells"] if c["question"] == "cost"):
            assert cell["reference"] == "mp-lock"
            if cell["strategy"] == "none":
                assert cell["relation"] == "unsafe" and cell["vs_reference"] is None
            elif cell["strategy"] == "mp-lock":
                assert cell["relation"] == "reference"
            else:
                assert cell["relation"] in ("indistinguishable", "faster", "slower"), cell
                low, high = cell["vs_reference_ci95"]
                assert low <= cell["vs_reference"] <= high
            assert "none" not in cell["vs_reference_words"]

    def test_conclusions(self, report_json: dict[str, Any]) -> None:
        verdicts = {c["strategy"]: c["correct"] for c in report_json["conclusions"]}
        assert verdicts.pop("none") is False
        assert set(verdicts) == {s.name for s in STRATEGIES.values() if s.safe and StoreKind.COUNTER in s.stores}
        assert all(verdicts.values())


def test_csv_loads_with_the_csv_module(cli: Any, tmp_path: Path) -> None:
    ran = cli("compare", "--stores", tmp_path / "db.json", *SMALL, "--strategies", "none,mp-lock", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(ran.out)))
    assert ran.code == 0 and len(rows) == 2 * 3
    assert {r["strategy"] for r in rows} == {"none", "mp-lock"}
    assert all(float(r["anomaly_ci95_low"]) <= float(r["anomaly_ci95_high"]) for r in rows)
    costs = [r for r in rows if r["question"] == "cost"]
    assert all(float(r["throughput_ci95_low"]) <= float(r["throughput_ci95_high"]) for r in costs)


def test_markdown_renders_as_a_table(cli: Any, tmp_path: Path) -> None:
    ran = cli("compare", "--stores", tmp_path / "db.json", *SMALL, "--strategies", "mp-lock", "--format", "md")
    lines = ran.out.splitlines()
    tables = [lines[i + 2 : lines.index("", i + 2)] for i, line in enumerate(lines) if line.startswith("### ")]
    correctness, cost = tables[0], tables[1]
    for table in tables:
        assert table[1].replace(" ", "").strip("|").split("|") == ["---"] * (table[0].count("|") - 1)
        assert all(line.startswith("| ") and line.endswith(" |") for line in table)
        assert len({line.count(" | ") for line in table}) == 1  # every row has as many cells as the header
    assert len(correctness) == 2 + 1 and len(cost) == 2 + 2
    assert correctness[2].startswith("| mp-lock | db.json | 4 |")  # the strategy's name is the row label
    assert "multiprocessing.Lock from the parent" in ran.out  # its description in the legend


def _broken(store: Store, ctx: BuyerContext, rec: Attempt) -> None:
    """A test double: takes the lock for the read only, releases it, then writes."""
    ctx.point(BEFORE_LOCK)
    with _mp_lock(ctx):
        seen = store.read()
        rec.t_read, rec.read = ctx.clock(), seen.value
    ctx.point(AFTER_READ)  # outside the lock: the lockstep barrier lines every buyer up here
    if seen.ticket is None:
        rec.outcome = Outcome.SOLD_OUT
        return
    rec.wrote = store.write(seen, ctx.buyer)
    rec.t_write, rec.ticket, rec.outcome = ctx.clock(), seen.ticket, Outcome.OK


MP_LOCK_MATRIX = ["--strategies", "mp-lock", "--buyers", "4", "--trials", "2", "--schedule", "lockstep"]


def test_a_broken_safe_strategy_makes_compare_exit_1(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = StrategyInfo(
        "mp-lock",
        "a lock released before the write (test double)",
        "one process tree",
        ANY_STORE,
        safe=True,
        window=AFTER_READ,
        purchase=_broken,
        needs=Needs(mp_lock=True),
    )
    monkeypatch.setitem(STRATEGIES, "mp-lock", broken)
    ran = cli("compare", "--stores", tmp_path / "db.json", *MP_LOCK_MATRIX, "--format", "json")
    assert ran.code == 1
    data = ran.json()
    assert data["ok"] is False and data["cells"][0]["anomaly_runs"] == 2


def test_the_real_locks_keep_compare_at_exit_0(cli: Any, tmp_path: Path) -> None:
    """The same matrix with the real mp-lock passes: the exit code tracks the strategy, not the test."""
    ran = cli("compare", "--stores", tmp_path / "db.json", *MP_LOCK_MATRIX, "--format", "json")
    assert ran.code == 0


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--buyers", "1,x"], "--buyers takes comma-separated whole numbers"),
        (["--buyers", "0"], "--buyers must be at least 1"),
        (["--trials", "0"], "--trials must be at least 1"),
        (["--schedule", "chaos"], "compare takes free and lockstep, not 'chaos'"),
        (["--strategies", "telepathy"], "unknown strategy 'telepathy'"),
        (["--format", "pdf"], "unknown format 'pdf'"),
        (["--out", "/no/such/dir/r.html"], "--out /no/such/dir/r.html: cannot be written"),
    ],
)
def test_bad_compare_input(cli: Any, tmp_path: Path, args: list[str], words: str) -> None:
    ran = cli("compare", "--stores", tmp_path / "db.json", *args)
    assert ran.code == 2 and words in ran.err and len(ran.err.splitlines()) == 1


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs it)")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    return found


def _headless(browser: str, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tempfile.mkdtemp(prefix="booking-chromium-")
    try:
        return subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def html_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One HTML report for the browser's tests: both file stores, every strategy, 4 buyers."""
    from booking.cli import main

    where = tmp_path_factory.mktemp("html")
    report = where / "report.html"
    stores = f"{where / 'db.json'},{where / 't.db'}"
    args = ["compare", "-q", "--stores", stores, *SMALL, "--buyers", "4", "--trials", "1"]
    assert main([*args, "--format", "html", "--out", str(report)]) == 0
    return report


def test_the_html_report_renders_its_charts_in_a_real_browser(html_report: Path, tmp_path: Path) -> None:
    browser = _chromium()
    report = html_report
    text = report.read_text()
    for outside in ("<script", "<link", " src=", 'href="http'):  # self-contained: nothing to fetch or run
        assert outside not in text
    assert re.search(r"url\((?!#)", text) is None  # only references inside the page

    # The race's own story, a lane per buyer, folded, once per cell that showed it.
    assert '<pre class="timeline">' in text and "double_sold: buyers 1, 2, 3 and 4" in text
    # none's cells with anomalies (lockstep, and the steady state, on each store): one folded timeline each
    assert text.count("<details>") == text.count('<pre class="timeline">') >= 2
    assert len(text.encode()) < 200_000

    dom = _headless(browser, "--dump-dom", report.as_uri()).stdout
    for name in (s.name for s in STRATEGIES.values() if StoreKind.COUNTER in s.stores):
        assert f'<span class="name">{name}</span>' in dom, name  # every strategy by name, as the browser read it
    assert dom.count('<figure class="chart">') == 3
    figures = dom.split('<figure class="chart">')[1:]
    for figure in figures:
        svg = figure[: figure.index("</figure>")]
        assert "<svg" in svg and svg.count("<path") >= 3  # the browser parsed real drawn shapes

    shot = tmp_path / "report.png"
    _headless(browser, f"--screenshot={shot}", "--window-size=1200,3000", report.as_uri())
    import matplotlib.image

    pixels = matplotlib.image.imread(str(shot))[..., :3]
    # matplotlib's first two colours (blue C0, orange C1) only appear if the charts were painted.
    blue = (
        (abs(pixels[..., 0] - 0.12) < 0.05) & (abs(pixels[..., 1] - 0.47) < 0.05) & (abs(pixels[..., 2] - 0.71) < 0.05)
    ).sum()
    orange = (
        (abs(pixels[..., 0] - 1.0) < 0.05) & (abs(pixels[..., 1] - 0.50) < 0.05) & (abs(pixels[..., 2] - 0.05) < 0.06)
    ).sum()
    assert blue > 100 and orange > 100, (blue, orange)


def _probed(browser: str, report: Path, width: int) -> dict[str, Any]:
    """The page as a browser lays it out `width` pixels wide: a copy with a probe that writes what it
    measured into the title (the report itself runs no script)."""
    probe = report.with_name("probe.html")
    measure = (
        "<script>document.title = JSON.stringify({page: document.documentElement.scrollWidth, "
        "boxes: [...document.querySelectorAll('.scroll, figure, #advice')].map(e => e.scrollWidth - e.clientWidth)"
        "});</script></body>"
    )
    probe.write_text(report.read_text().replace("</body>", measure))
    dom = _headless(browser, f"--window-size={width},900", "--dump-dom", probe.as_uri()).stdout
    found = re.search(r"<title>(.*?)</title>", dom)
    assert found is not None, dom[:500]
    return json.loads(html.unescape(found.group(1)))  # type: ignore[no-any-return]


def test_the_html_report_fits_1280_pixels_and_says_what_to_pick_first(html_report: Path) -> None:
    """Both file stores, every strategy: nothing wider than a 1,280 px window, nothing to scroll sideways,
    the recommendation above everything else, one chart per question."""
    browser = _chromium()
    report = html_report
    text = report.read_text()
    assert text.index('id="advice"') < text.index("<h2>Conclusions</h2>") < text.index('class="chart"')
    assert "On sqlite t.db at 4 buyers:" in text and "Not safe here, never a choice: none" in text
    assert re.search(r"\d /s \(95%: [\d,]+\u2013[\d,]+; min\u2013max [\d,]+\u2013[\d,]+\)", text)
    assert re.search(r"\[-|e\+\d", text) is None  # no negative bound, no e-notation
    measured = _probed(browser, report, 1280)
    assert measured["page"] <= 1280 and max(measured["boxes"]) <= 0, measured
    assert text.count('<figure class="chart">') == 3


@pytest.mark.slow
def test_the_defaults_show_the_race_and_no_safe_anomaly(tmp_path: Path) -> None:
    """`booking compare` as shipped: db.json and SQLite, every strategy; none races in lockstep."""
    from booking.cli import main

    out = tmp_path / "report.json"
    assert main(["compare", "--quiet", "--servers", "none", "--format", "json", "--out", str(out)]) == 0
    cells = json.loads(out.read_text())["cells"]
    kinds = {c["store"].rsplit(".", 1)[-1] for c in cells}
    assert kinds == {"json", "db"}
    for c in cells:
        if c["strategy"] == "none" and c["schedule"] == "lockstep" and c["buyers"] > 1:
            assert c["anomaly_probability"] > 0
        if c["safe"]:
            assert c["anomaly_runs"] == 0, c


def test_server_urls_add_the_server_strategies(cli: Any, postgresql_url: str, mysql_url: str) -> None:
    from booking.compare.cells import CompareConfig
    from booking.compare.plan import plan
    from booking.options.config import Schedule
    from booking.options.store_url import StoreURL

    stores = (StoreURL.of(postgresql_url), StoreURL.of(mysql_url))
    keys = plan(CompareConfig(stores=stores, buyers=(3,), schedules=(Schedule.LOCKSTEP,)))
    by_kind: dict[str, set[str]] = {}
    for k in keys:
        by_kind.setdefault(k.store.kind.value, set()).add(k.strategy)
    assert {"advisory", "skip-locked", "atomic", "db-lock", "optimistic", "serializable"} <= by_kind["postgresql"]
    assert {"skip-locked", "atomic", "db-lock"} <= by_kind["mysql"]
    assert "advisory" not in by_kind["mysql"]
    # Run on both (one strategy each is enough to show the servers' versions in the report)
    args = ["--buyers", "3", "--trials", "1", "--tickets", "4", "--schedule", "lockstep", "--format", "json"]
    ran = cli("compare", "--stores", f"{postgresql_url},{mysql_url}", "--strategies", "atomic", *args)
    data = ran.json()
    assert ran.code == 0, ran.err
    assert {c["store"].split()[0] for c in data["cells"]} == {"postgresql", "mariadb"}  # "postgresql booking_t_..."
    assert set(data["machine"]["servers"]) == {c["store"] for c in data["cells"]}  # the server versions
