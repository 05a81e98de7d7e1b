"""A Comparison in the format asked for: Markdown, JSON, CSV or one self-contained HTML page."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from booking.compare.cells import Comparison
from booking.errors import BadInput
from booking.files import check_writable, write_text

FORMATS = ("table", "md", "json", "csv", "html")


def render(comparison: Comparison, fmt: str) -> str:
    """The comparison as text in `fmt`: the terminal table as plain text (80 columns), md, json, csv or html."""
    from booking.render import tables

    if fmt == "table":
        return tables.text_table(comparison)
    if fmt == "md":
        return tables.markdown(comparison)
    if fmt == "json":
        return json.dumps(comparison.to_json(), indent=2) + "\n"
    if fmt == "csv":
        return tables.to_csv(comparison)
    if fmt == "html":
        from booking.render.html import html_report

        return html_report(comparison)
    raise ValueError(f"unknown format {fmt!r}")


def prepare_output(fmt: str, out: Path | None) -> None:
    """Before the comparison runs: refuse an unknown format, or a report file that cannot be written."""
    if fmt not in FORMATS:
        raise BadInput(f"--format: unknown format {fmt!r} (choose from: {', '.join(FORMATS)})")
    if out is not None:
        existed = out.exists()
        check_writable(out, "--out")
        if not existed:
            out.unlink()  # proved writable; an interrupted comparison must not leave an empty report behind


def deliver(comparison: Comparison, fmt: str, out: Path | None, console: Any) -> None:
    """The report to `out` (the table as plain text there), or to the terminal."""
    if out is not None:
        write_text(out, render(comparison, fmt), "--out")
        partial = f", partial: {comparison.partial}" if comparison.partial else ""
        console.print(f"wrote {out} ({fmt}{partial})", markup=False, highlight=False)
    elif fmt == "table":
        from booking.render.tables import print_table

        print_table(comparison, console)
    else:
        sys.stdout.write(render(comparison, fmt))
