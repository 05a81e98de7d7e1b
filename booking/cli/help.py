"""Help laid out in terminal columns, for a language whose characters take two (Chinese).

Typer's help formatter counts characters and breaks lines only at spaces: Chinese help would run
to twice the terminal's width. This formatter keeps Typer's layout and measures and breaks lines
the way booking's run output does (booking/render/text.py); it also says "Usage:" and the
headings' colon in the language spoken.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import typer

from booking.i18n.lang import N_, _
from booking.render.text import cells, pad, wrap

USAGE = N_("Usage: ")
HEADING = N_("{heading}:")

HelpFormatter: Any = typer.Context.formatter_class  # the formatter of the click Typer ships


class ColumnsFormatter(HelpFormatter):  # type: ignore[misc]
    """Typer's help layout, measured in terminal columns and broken between Chinese characters."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, _(USAGE) if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(" " * self.current_indent + _(HEADING).format(heading=heading) + "\n")

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        said = [
            "\n".join(indent + line for line in wrap(" ".join(p.split()), self.width - len(indent)))
            for p in text.split("\n\n")
        ]
        self.write("\n\n".join(said) + "\n")

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        first = min(max((cells(term) for term, _text in rows), default=0), col_max) + col_spacing
        for term, english in rows:
            text = _(english)  # the help option's own words (every other row is translated already)
            line = " " * self.current_indent + term
            if not text:
                self.write(line + "\n")
                continue
            room = max(self.width - first - self.current_indent, 10)
            said = [w for p in text.split("\n\n") for w in wrap(" ".join(p.split()), room)]
            lead = " " * (first + self.current_indent)
            if cells(term) <= first - col_spacing:
                self.write(pad(line, first + self.current_indent) + said[0] + "\n")
                said = said[1:]
            else:
                self.write(line + "\n")
            self.write("".join(lead + s + "\n" for s in said))


class ColumnsContext(typer.Context):
    formatter_class = ColumnsFormatter
