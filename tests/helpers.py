"""Helpers the tests share: run the CLI as a real command, hash a store, connect without booking."""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from booking.stores.claim import claim


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    @property
    def flat(self) -> str:
        """The output's words, one space apart: lines are wrapped to the width, phrases are kept whole."""
        return " ".join(self.out.split())


def run_command(
    *args: str | int | Path, cwd: Path | None = None, timeout: float = 120, env: dict[str, str] | None = None
) -> Ran:
    """Run `python -m booking ARGS...` as its own process, as a user would (this interpreter, never a
    bare `booking` from PATH). `env` is added to this process's environment."""
    proc = subprocess.run(
        [sys.executable, "-m", "booking", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env={**os.environ, **env} if env else None,
    )
    return Ran(proc.returncode, proc.stdout, proc.stderr)


def digest(path: Path) -> str | None:
    """The store's bytes, to prove a failed command left it as it was (None: no file)."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


KINDS = ("sqlite", "postgresql", "mysql")
MYSQL_PASSWORD = "s3cret-" + secrets.token_hex(6)  # distinctive: grep finds it nowhere by chance


def plain_connect(url: str) -> Any:
    """A DBAPI connection made without SQLAlchemy, for recounts that trust nothing of booking's."""
    from urllib.parse import urlsplit

    if url.startswith("sqlite:///"):
        import sqlite3

        return sqlite3.connect(url.removeprefix("sqlite:///"))
    parts = urlsplit(url)
    if parts.scheme.startswith("postgresql"):
        import psycopg

        return psycopg.connect(
            host=parts.hostname,
            port=parts.port,
            user=parts.username,
            password=parts.password or "",
            dbname=parts.path.lstrip("/"),
        )
    import pymysql

    return pymysql.connect(
        host=parts.hostname,
        port=parts.port or 3306,
        user=parts.username,
        password=parts.password or "",
        database=parts.path.lstrip("/"),
    )


@contextlib.contextmanager
def unwritable(directory: Path) -> Iterator[Path]:
    """Make `directory` refuse new files for the block: chmod for ordinary users, chattr +i for root."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        try:
            yield directory
        finally:
            directory.chmod(0o755)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root and chattr is missing: no way to make a directory unwritable")
    made = subprocess.run(["chattr", "+i", str(directory)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"running as root and chattr +i failed here: {made.stderr.decode().strip()}")
    try:
        yield directory
    finally:
        subprocess.run(["chattr", "-i", str(directory)], check=True)


def short_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    """For a run in this process whose buyers sleep far past its deadline: the fixed waits after the deadline
    (the buyers' grace to stop by themselves, then to exit) cut short. They end stuck all the same, sooner."""
    from booking.processes import crowd

    monkeypatch.setattr(crowd, "GRACE_S", 0.05)
    monkeypatch.setattr(crowd, "JOIN_S", 0.05)


def _hold(store: str, exclusive: bool, holding: Any, done: Any) -> None:
    with claim(store, exclusive=exclusive):
        holding.set()
        done.wait(60)


@contextlib.contextmanager
def held_elsewhere(store: str, exclusive: bool) -> Iterator[None]:
    """Another process (forked from this one) holds a claim on `store` for the block: the claim is per
    process, so the commands under test can run here, in this process, through the `cli` fixture."""
    ctx = multiprocessing.get_context("fork")
    holding, done = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold, args=(store, exclusive, holding, done))
    holder.start()
    try:
        while not holding.wait(0.05) and holder.is_alive():
            pass  # polling for the claim or the holder's end (a claim refused ends it with CannotRun)
        assert holding.is_set(), "the other process could not claim the store"
        yield
    finally:
        done.set()
        holder.join(60)
    assert holder.exitcode == 0
