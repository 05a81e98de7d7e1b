"""Your code cannot end, hang or corrupt booking's own process: it is imported and run apart.

Each case runs the real command in a process of its own (an `os._exit` at import must not take the
test's process with it) from a directory holding the module under test.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import pytest

SAFETY_S = 120  # never hang the suite on a regression; no assertion is made on time


def _booking(where: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LANG": "C.UTF-8", "PYTHONPATH": str(Path(__file__).parents[2])}
    command = [sys.executable, "-m", "booking", *args]
    return subprocess.run(command, cwd=where, env=env, capture_output=True, text=True, timeout=SAFETY_S)


def _module(where: Path, name: str, text: str) -> None:
    (where / f"{name}.py").write_text(text)


def _one_line(ran: subprocess.CompletedProcess[str]) -> str:
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1, ran.stderr
    return lines[0]


def test_an_import_that_ends_the_process_is_could_not_run_naming_the_module(tmp_path: Path) -> None:
    _module(tmp_path, "quits", "import os\nos._exit(0)\n")
    ran = _booking(tmp_path, "simulate", "--purchase", "quits:buy", "--buyers", "2", "--json")
    assert ran.returncode == 3, ran
    assert "--purchase quits:buy" in _one_line(ran)
    assert ran.stdout == ""


def test_an_import_that_blocks_is_given_up_on_at_the_deadline(tmp_path: Path) -> None:
    _module(tmp_path, "waits", "import threading\nthreading.Event().wait()\n")
    ran = _booking(tmp_path, "simulate", "--purchase", "waits:buy", "--buyers", "2", "--deadline", "2")
    assert ran.returncode == 3, ran
    line = _one_line(ran)
    assert "--purchase waits:buy" in line and "no answer within 2 s (the deadline)" in line


def test_what_your_code_prints_never_reaches_the_json_and_is_kept_in_the_history(tmp_path: Path) -> None:
    _module(
        tmp_path,
        "loud",
        "import sys\n"
        "print('importing loud')\n"
        "def buy(store, buyer, point):\n"
        "    print('buyer', buyer, 'buying')\n"
        "    sys.stdout.write('no newline from buyer %d' % buyer)\n"
        "    point('after-read')\n"
        "    return None\n",
    )
    history = tmp_path / "run.jsonl"
    ran = _booking(tmp_path, "simulate", "--purchase", "loud:buy", "--buyers", "2", "--json", "--history", str(history))
    out = json.loads(ran.stdout)
    assert out["buyers"] == 2
    assert "buyer 1 buying" in ran.stderr and "buyer 2 buying" in ran.stderr  # said live, on stderr
    ends = [r for r in map(json.loads, history.read_text().splitlines()) if r["kind"] == "buyer"]
    printed = {r["buyer"]: r.get("printed", "") for r in ends}
    for n in (1, 2):  # each buyer's own words, the unflushed last one too
        assert f"buyer {n} buying\n" in printed[n] and printed[n].endswith(f"no newline from buyer {n}"), printed


def _sleepers(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if token.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and PR_SET_CHILD_SUBREAPER are Linux's")
@pytest.mark.parametrize("new_session", [False, True], ids=["forked", "setsid"])
def test_what_your_code_forks_ends_with_the_run(tmp_path: Path, new_session: bool) -> None:
    token = f"3600.{secrets.randbelow(10**6):06d}"  # a sleep of its own, found by its argument
    _module(
        tmp_path,
        "forks",
        "import subprocess\n"
        "def buy(store, buyer, point):\n"
        f"    subprocess.Popen(['sleep', '{token}'], start_new_session={new_session})\n"
        "    return None\n",
    )
    try:
        ran = _booking(tmp_path, "simulate", "--purchase", "forks:buy", "--buyers", "2", "--json")
        assert json.loads(ran.stdout)["buyers"] == 2
        assert _sleepers(token) == []
    finally:
        for pid in _sleepers(token):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_your_setup_and_stock_run_apart_too(tmp_path: Path) -> None:
    """--setup whose import ends the process, and --stock that prints and blocks: each is one line (or a
    parseable --json), never booking's own end or hang."""
    _module(tmp_path, "shop", "import os\nos._exit(0)\ndef seed(store, tickets):\n    pass\n")
    _module(
        tmp_path,
        "tables",
        "import threading\n"
        "def seed(store, tickets):\n    print('seeding')\n"
        "def count(store):\n    print('counting')\n    return 0\n"
        "def stuck(store):\n    threading.Event().wait()\n",
    )
    _module(tmp_path, "buyer", "def buy(store, buyer, point):\n    print('buying')\n    return None\n")
    ran = _booking(tmp_path, "simulate", "--purchase", "buyer:buy", "--setup", "shop:seed", "--buyers", "2")
    assert ran.returncode == 3 and "--setup shop:seed" in _one_line(ran)
    ran = _booking(
        tmp_path, "simulate", "--purchase", "buyer:buy", "--setup", "tables:seed", "--stock", "tables:count", "--json"
    )
    assert json.loads(ran.stdout)["remaining"] == 0, ran.stderr
    ran = _booking(
        tmp_path, "simulate", "--purchase", "buyer:buy", "--stock", "tables:stuck", "--keep", "--deadline", "2"
    )
    assert ran.returncode == 3 and "--stock tables:stuck" in _one_line(ran)
