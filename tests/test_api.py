"""The public API: every name the facade lists is there, typed, and means the same in every import order."""

from __future__ import annotations

import subprocess
import sys

import pytest

import booking
from booking import api


class TestTheFacade:
    def test_every_public_name_resolves_to_the_apis(self) -> None:
        """booking.NAME is api.NAME for every public name, and __all__ lists exactly them."""
        names = [n for n in vars(api) if not n.startswith("_")]
        assert sorted([*names, "__version__"]) == sorted(booking.__all__)
        for name in names:
            assert getattr(booking, name) is getattr(api, name)

    def test_an_unknown_name_is_an_attribute_error(self) -> None:
        with pytest.raises(AttributeError, match="no attribute 'nothing'"):
            _ = booking.nothing  # type: ignore[attr-defined]

    @pytest.mark.parametrize(
        "first",
        ["import booking.verdict.verify", "from booking.verdict import verify", "import booking.run.simulate", "pass"],
    )
    def test_verify_is_the_function_in_every_import_order(self, first: str) -> None:
        """Whatever was imported first, booking.verify and `from booking import verify` are the verifier."""
        code = f"{first}\nimport booking\nfrom booking import verify\nassert booking.verify is verify\n"
        code += "assert callable(verify) and verify.__module__ == 'booking.verdict.verify', verify\n"
        ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert ran.returncode == 0, ran.stderr

    def test_importing_booking_imports_no_heavy_library(self) -> None:
        """`import booking` (every command's first import, and every buyer's) pays for no SQL or chart library
        (SQLAlchemy, Alembic, matplotlib)."""
        heavy = "('sqlalchemy', 'alembic', 'matplotlib')"
        code = f"import sys, booking\nprint(sorted(m for m in sys.modules if m.split('.')[0] in {heavy}))"
        ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert ran.stdout.strip() == "[]", ran.stdout

    def test_the_public_api_needs_no_extra(self) -> None:
        """Using the API (what every command does) imports no library of an extra: `pip install -e .` alone
        runs the quick start (h11, the target's HTTP library, once broke it)."""
        extras = "('h11', 'httpx', 'starlette', 'uvicorn', 'redis', 'pika', 'matplotlib', 'psycopg', 'pymysql')"
        code = "import sys, booking\nbooking.simulate\n"
        code += f"print(sorted(m for m in sys.modules if m.split('.')[0] in {extras}))"
        ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert ran.stdout.strip() == "[]", ran.stdout + ran.stderr
