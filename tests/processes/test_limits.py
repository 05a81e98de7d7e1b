"""A crowd that cannot fit the machine is refused before the run, with the numbers; one that can is given room."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from booking.errors import BadInput
from booking.options.config import RunConfig
from booking.processes import limits
from booking.stores import StoreKind
from booking.strategies import choose

RUN = """
import resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, ({soft}, {hard}))
from booking.cli import main
code = main(sys.argv[1:])
print("limit", resource.getrlimit(resource.RLIMIT_NOFILE)[0])
sys.exit(code)
"""


def _under_limit(soft: int, hard: int, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """booking in a process of its own: a hard limit, once lowered, cannot be raised again by that process."""
    script = RUN.format(soft=soft, hard=hard)
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


class TestOpenFiles:
    def test_too_many_buyers_for_the_hard_limit_are_refused_up_front(self, tmp_path: Path) -> None:
        """Under `ulimit -n 64` 100 buyers cannot fit: refused before the run, naming the limit that would work."""
        (tmp_path / "db.json").write_text('{"count": 7}')
        ran = _under_limit(64, 64, "simulate", "--buyers", "100", "--no-lock", cwd=tmp_path)
        assert ran.returncode == 2, ran.stderr
        assert "open files" in ran.stderr and "over the limit of 64 (ulimit -n)" in ran.stderr
        assert "use at most" in ran.stderr and len(ran.stderr.splitlines()) == 1
        assert (tmp_path / "db.json").read_text() == '{"count": 7}'  # the store was left as it was

    def test_a_low_soft_limit_is_raised_to_what_the_crowd_needs(self, tmp_path: Path) -> None:
        """A soft limit of 64 under a hard one of 4,096: raised, and 100 buyers run."""
        ran = _under_limit(64, 4096, "simulate", "--buyers", "100", "--tickets", "100", "-q", cwd=tmp_path)
        assert ran.returncode == 0, ran.stderr
        assert "verdict: OK" in ran.stdout and "sold 100" in ran.stdout
        raised = int(ran.stdout.split("limit ")[-1])
        assert 200 < raised <= 4096

    def test_the_estimate_counts_three_files_per_buyer(self) -> None:
        config = RunConfig(buyers=1000, store="db.json", strategy="mp-lock")
        small = RunConfig(buyers=10, store="db.json", strategy="mp-lock")
        choice = choose(config, StoreKind.COUNTER)
        assert limits.files_needed(config, choice) - limits.files_needed(small, choice) == 990 * 3


class TestServerConnections:
    def test_more_buyers_than_free_connections_are_refused_up_front(self, postgresql_url: str) -> None:
        from booking import simulate

        try:
            simulate(RunConfig(store=postgresql_url, buyers=1000, tickets=10))
        except BadInput as exc:
            words = str(exc)
        else:
            raise AssertionError("1,000 buyers were not refused")
        assert "allows" in words and "max_connections" in words and "use at most" in words

    def test_more_buyers_than_free_connections_are_refused_on_mariadb(self, mysql_url: str) -> None:
        from booking import simulate

        try:
            simulate(RunConfig(store=mysql_url, buyers=1500, tickets=10, schedule="free"))
        except BadInput as exc:
            assert "max_connections" in str(exc)
        else:
            raise AssertionError("1,500 buyers were not refused")
