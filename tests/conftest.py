"""Fixtures: run the CLI in-process (fast), a fresh db.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import Ran

from booking.cli import main


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    """Run `booking ARGS...` in this process and capture what it prints."""

    def run(*args: str | Path) -> Ran:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return run


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "db.json"
    path.write_text('{"count": 1}')
    return path
