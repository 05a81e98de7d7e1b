"""Helpers the tests share: run the CLI as a real command, hash a store."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_command(*args: str | Path, timeout: float = 120) -> Ran:
    """Run `python -m booking ARGS...` as its own process, as a user would."""
    proc = subprocess.run(
        [sys.executable, "-m", "booking", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )
    return Ran(proc.returncode, proc.stdout, proc.stderr)


def digest(path: Path) -> str | None:
    """The store's bytes, to prove a failed command left it as it was (None: no file)."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None
