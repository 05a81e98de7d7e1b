"""Migrations ship in the wheel: `booking db upgrade` from a non-editable install in a fresh venv."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_db_upgrade_from_a_wheel_in_a_fresh_venv(tmp_path: Path) -> None:
    """Build the wheel, install it (not editable) in a new venv, migrate a store from outside the checkout."""

    def run(*cmd: str | Path, cwd: Path = tmp_path) -> str:
        done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp_path / "dist", ROOT)
    wheel = next((tmp_path / "dist").glob("booking_race_lab-*.whl"))
    run(sys.executable, "-m", "venv", tmp_path / "venv")
    python = tmp_path / "venv" / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", wheel)
    store = tmp_path / "elsewhere" / "t.db"
    store.parent.mkdir()
    out = run(python, "-m", "booking", "db", "upgrade", "--store", f"sqlite:///{store}", cwd=store.parent)
    assert "(head)" in out
    location = run(python, "-c", "from booking.stores.migrate import script_location; print(script_location())")
    assert str(tmp_path / "venv") in location and str(ROOT) not in location
    out = run(python, "-m", "booking", "simulate", "--store", str(store), "--lock", "atomic", "-q", cwd=store.parent)
    assert "verdict: OK" in out
    assert run(python, "-m", "booking", "--version").startswith("booking ")
    out = run(python, "-m", "booking", "--lang", "zh", "simulate", "--store", str(store), "-q", cwd=store.parent)
    # the catalogue ships in the wheel (-q: the verdict's line first, then sold and remaining)
    assert out.startswith("结论") and "verdict" not in out


def test_every_package_is_listed_for_the_wheel() -> None:
    """pyproject lists packages explicitly (migrations/ is mapped in): a new subpackage must be added there."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "booking").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found | {"booking.migrations", "booking.migrations.versions"} == listed
