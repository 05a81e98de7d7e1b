"""Where a command's result goes: one --format convention for every command that prints a result.

Each such command takes `--format FORMAT` (its human form is `text`) and `--json`, the same as
`--format json`.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from booking.errors import BadInput
from booking.i18n.lang import _

TEXT, JSON = "text", "json"
FORMAT_HELP = "{choices} [default: text]."
JSON_HELP = "Same as --format json: print the result as one JSON object."


def choose_format(fmt: str | None, as_json: bool, choices: tuple[str, ...] = (TEXT, JSON)) -> str:
    """The format asked for: --json or --format (not both, unless they agree), `text` when neither."""
    if fmt is not None and fmt not in choices:
        raise BadInput(
            _("--format: unknown format {fmt!r} (choose from: {value})").format(fmt=fmt, value=", ".join(choices))
        )
    if as_json and fmt not in (None, JSON):
        raise BadInput(_("--json and --format {fmt} ask for two formats: choose one").format(fmt=fmt))
    return JSON if as_json else (fmt or TEXT)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")
