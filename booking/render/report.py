"""A Comparison in the format asked for: Markdown, JSON, CSV or one self-contained HTML page."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from booking.compare.cells import Comparison
from booking.errors import BadInput
from booking.files import check_writable, write_text
from booking.i18n.lang import _
from booking.options.store_url import StoreURL
from booking.redact import redact

FORMATS = ("table", "md", "json", "csv", "html")


def render(comparison: Comparison, fmt: str) -> str:
    """The comparison as text in `fmt`: the terminal table as plain text (80 columns), md, json, csv or html."""
    from booking.render import tables

    if fmt == "table":
        return tables.text_table(comparison)
    if fmt == "md":
        return tables.markdown(comparison)
    if fmt == "json":
        data = comparison.to_json()
        data["cells"] = [tables.cell_row(c) for c in comparison.cells]
        return json.dumps(data, indent=2) + "\n"
    if fmt == "csv":
        return tables.to_csv(comparison)
    if fmt == "html":
        from booking.render.html import html_report

        return html_report(comparison)
    raise ValueError(_("unknown format {fmt!r}").format(fmt=fmt))


def prepare_output(fmt: str, out: Path | None, stores: Sequence[StoreURL] | None = None) -> None:
    """Before the comparison runs: refuse an unknown format, or a report file that cannot be written
    (or that is one of the stores: writing it would destroy the store)."""
    if fmt not in FORMATS:
        raise BadInput(
            _("--format: unknown format {fmt!r} (choose from: {value})").format(fmt=fmt, value=", ".join(FORMATS))
        )
    if out is not None:
        # Proved writable (a new file is probed and removed again: an interrupted comparison leaves
        # no empty report behind), and never one of the stores.
        check_writable(out, "--out", never=[f for s in stores or () for f in s.files()])


def deliver(comparison: Comparison, fmt: str, out: Path | None, console: Any) -> None:
    """The report to `out` (the table as plain text there), or to the terminal."""
    if out is not None:
        never = [f for s in comparison.config.stores for f in s.files()]
        write_text(out, redact(render(comparison, fmt), _secrets(comparison)), "--out", never)
        partial = f", partial: {comparison.partial}" if comparison.partial else ""
        console.print(f"wrote {out} ({fmt}{partial})", markup=False, highlight=False)
    elif fmt == "table":
        from booking.render.tables import print_table

        print_table(comparison, console)
    else:
        sys.stdout.write(redact(render(comparison, fmt), _secrets(comparison)))


def _secrets(comparison: Comparison) -> frozenset[str]:
    return frozenset().union(*(s.secrets for s in comparison.config.stores))
