"""Text that fits a width: the terminal's, wrapped at spaces, never cut.

A fact on screen is never truncated: a line too long for the width goes on over the next lines,
indented under its start; a word longer than a whole line is split, not shortened. Widths are counted
in terminal columns: a Chinese character takes two.
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from collections.abc import Set as AbstractSet
from typing import Any, TextIO

from booking.redact import redact

DEFAULT_WIDTH = 80  # a pipe, a file, or a terminal that does not say
MIN_WIDTH = 40  # narrower than this, lines stay this wide (nothing useful fits in less)

Part = str | tuple[str, str]  # plain text, or (text, Rich style)
_SPACES = re.compile(r"( +)")


def width_of(stream: TextIO | None = None) -> int:
    """The columns `stream` shows: $COLUMNS if set, the terminal's width, else 80."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), MIN_WIDTH)
    try:
        if stream is not None and stream.isatty():
            return max(os.get_terminal_size(stream.fileno()).columns, MIN_WIDTH)
    except (OSError, ValueError):  # not a real file descriptor (a test's StringIO), or a closed one
        pass
    return DEFAULT_WIDTH


def cells(text: str) -> int:
    """The columns `text` takes on a terminal: two for a wide (Chinese) character, one otherwise."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    """`text` left-justified in `width` columns."""
    return text + " " * max(width - cells(text), 0)


def _fit(word: str, room: int) -> int:
    """How many characters of `word` fit in `room` columns."""
    used = 0
    for i, ch in enumerate(word):
        used += cells(ch)
        if used > room:
            return i
    return len(word)


_WIDE = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
_PIECES = re.compile(f"[{_WIDE}]|[^{_WIDE}]+")
# Full-width marks. Closing ones (comma, full stop, colon, semicolon, enumeration comma, brackets, ! and ?)
# are never first on a line: they stay with what they close; opening brackets never last.
_CLOSING = set("\uff0c\u3002\uff1a\uff1b\u3001\uff09\u300d\u300f\u300b\u3009\uff01\uff1f")
_OPENING = set("\uff08\u300c\u300e\u300a\u3008")


def _pieces(word: str) -> list[str]:
    """A word as the pieces a line may break between: a Chinese character is a piece of its own (a line
    may break between any two), other text stays whole."""
    if word.isascii():
        return [word]
    out: list[str] = []
    opening = ""
    for piece in _PIECES.findall(word):
        if piece in _CLOSING and out:
            out[-1] += piece
        elif piece in _OPENING:
            opening += piece
        else:
            out.append(opening + piece)
            opening = ""
    return [*out, opening] if opening else out


def wrap_parts(parts: list[Part], width: int, indent: int = 0) -> list[list[Part]]:
    """Styled parts as lines of at most `width` columns, breaking at spaces; continuation lines start
    with `indent` spaces. Runs of spaces inside a line are kept (figures are aligned with them)."""
    indent = min(indent, width // 2)
    words: list[tuple[str, str | None]] = []
    for part in parts:
        text, style = (part, None) if isinstance(part, str) else part
        words.extend((piece, style) for w in _SPACES.split(text) if w for piece in _pieces(w))
    lines: list[list[Part]] = [[]]
    used, fresh = 0, False  # fresh: a continuation line with nothing on it yet
    pending: tuple[str, str | None] | None = None  # spaces before the next word
    for word, style in words:
        if word.startswith(" "):
            pending = (pending[0] + word, pending[1]) if pending else (word, style)
            continue
        gap = len(pending[0]) if pending and not fresh else 0
        if used + gap + cells(word) > width and not fresh and used > 0:
            lines.append([" " * indent] if indent else [])
            used, fresh, gap = indent, True, 0
        if gap and pending:
            _add(lines[-1], *pending)
            used += gap
        while used + cells(word) > width:  # longer than a whole line: split it, never shorten it
            room = _fit(word, width - used)
            if room == 0 and used > indent:  # not one more character fits here: on the next line
                lines.append([" " * indent] if indent else [])
                used = indent
                continue
            room = max(room, 1)
            _add(lines[-1], word[:room], style)
            word = word[room:]
            lines.append([" " * indent] if indent else [])
            used = indent
        _add(lines[-1], word, style)
        used += cells(word)
        pending, fresh = None, False
    return lines


def _add(line: list[Part], text: str, style: str | None) -> None:
    line.append(text if style is None else (text, style))


def wrap(text: str, width: int, indent: int = 0) -> list[str]:
    """Plain text as lines of at most `width` columns (see wrap_parts)."""
    return [plain(line) for line in wrap_parts([text], width, indent)]


def plain(parts: list[Part]) -> str:
    return "".join(p if isinstance(p, str) else p[0] for p in parts)


class Printer:
    """Lines for a person, wrapped to the stream's width: styled by Rich on a terminal, plain text
    elsewhere (and no Rich import, which is a tenth of a short run's start-up)."""

    def __init__(
        self, stream: TextIO | None = None, width: int | None = None, secrets: AbstractSet[str] = frozenset()
    ) -> None:
        self.stream = stream or sys.stdout
        self.secrets = secrets  # masked in every line, with every URL's password
        self.width = width or width_of(self.stream)
        self._console: Any = None
        if self.stream.isatty():
            from rich.console import Console

            self._console = Console(file=self.stream, highlight=False, soft_wrap=True)

    def line(self, *parts: Part, indent: int = 4) -> None:
        """One logical line, secrets masked before it is wrapped; continuation lines start `indent` columns in."""
        masked = [redact(p, self.secrets) if isinstance(p, str) else (redact(p[0], self.secrets), p[1]) for p in parts]
        for row in wrap_parts(masked, self.width, indent):
            self._write(row)

    def _write(self, row: list[Part]) -> None:
        if self._console is None:
            self.stream.write(plain(row) + "\n")
            return
        from rich.text import Text

        text = Text()
        for p in row:
            if isinstance(p, str):
                text.append(p)
            else:
                text.append(p[0], style=p[1])
        self._console.print(text)
