"""The README's first command, in a fresh clone, leaves the checkout as it found it and ends by saying
the race was shown (exit 1)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def git(*args: str | Path, cwd: Path) -> str:
    done = subprocess.run(["git", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120, check=True)
    return done.stdout


def fresh_clone(tmp_path: Path) -> Path:
    """A clone of this working tree as it is (its tracked files, committed in a repository of their own)."""
    origin = tmp_path / "origin"
    for name in git("ls-files", "-z", cwd=ROOT).split("\0"):
        if name and (ROOT / name).is_file():
            (origin / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, origin / name)
    git("init", "-q", cwd=origin)
    git("add", "-A", cwd=origin)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "tree", cwd=origin)
    git("clone", "-q", origin, tmp_path / "clone", cwd=tmp_path)
    return tmp_path / "clone"


def quick_start(clone: Path, booking: list[str]) -> subprocess.CompletedProcess[str]:
    ran = subprocess.run(
        [*booking, "simulate", "--buyers", "10", "--no-lock"], capture_output=True, text=True, cwd=clone, timeout=300
    )
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert ran.stdout.splitlines()[-1].startswith("The race was shown: exit 1 means"), ran.stdout
    assert git("status", "--porcelain", cwd=clone) == "", ran.stdout
    return ran


def test_the_first_command_leaves_the_clone_unchanged(tmp_path: Path) -> None:
    """python -m booking in the clone runs the clone's own package: its db.json is the notes' file."""
    clone = fresh_clone(tmp_path)
    ran = quick_start(clone, [sys.executable, "-m", "booking"])
    assert "db.json is put back as the notes have it" in ran.stdout


@pytest.mark.slow
def test_pip_install_then_the_first_command_in_a_fresh_clone(tmp_path: Path) -> None:
    """As the README says it: `pip install -e . && booking simulate --buyers 10 --no-lock`, in a new venv."""
    clone = fresh_clone(tmp_path)
    subprocess.run([sys.executable, "-m", "venv", tmp_path / "venv"], check=True, timeout=300)
    pip = [str(tmp_path / "venv" / "bin" / "pip"), "install", "-q", "-e", "."]
    done = subprocess.run(pip, capture_output=True, text=True, cwd=clone, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    quick_start(clone, [str(tmp_path / "venv" / "bin" / "booking")])
