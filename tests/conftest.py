"""Shared helpers: run the CLI in-process (fast) or as a real command, hash stores."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from booking.cli import main


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    """Run `booking ARGS...` in this process and capture what it prints."""

    def run(*args: str | Path) -> Ran:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return run


def run_command(*args: str | Path, timeout: float = 120) -> Ran:
    """Run `python -m booking ARGS...` as its own process, as a user would."""
    proc = subprocess.run(
        [sys.executable, "-m", "booking", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )
    return Ran(proc.returncode, proc.stdout, proc.stderr)


def digest(path: Path) -> str | None:
    """The store's bytes, to prove a failed command left it as it was (None: no file)."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "db.json"
    path.write_text('{"count": 1}')
    return path
