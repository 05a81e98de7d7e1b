"""The command line in the language spoken: `--lang`, and every help text translated as the command is built.

Help texts are written in English where the options are defined (RunConfig's fields, Typer's
options, the commands' docstrings); each paragraph is a msgid of booking's catalogue, looked up when
`booking` builds its command (booking/i18n/lang.py). Typer's own words come from the same catalogue
(`TYPER_WORDS`), and so do its usage errors (`usage_error`); Chinese help is laid out in terminal
columns (booking/cli/help.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from booking.i18n.lang import N_, _, spoken

LANG_HELP = N_(
    "The language: en (the default) or zh (Chinese, the notes' language). Without it, a Chinese "
    "LANGUAGE, LC_ALL or LANG locale speaks Chinese."
)
EXAMPLE = "Example: "

# Typer's own words (it says them through gettext, in booking's text domain), and the usage errors of
# the click it ships (which says them in English only: `usage_error` finds and translates them).
TYPER_WORDS = (
    N_("Arguments"),
    N_("Options"),
    N_("Commands"),
    N_("(dynamic)"),
    N_("default: {default}"),
    N_("required"),
    N_("env var: {var}"),
    N_("Missing command."),
    N_("No such command {name!r}."),
    N_("Aborted!"),
    N_("Show this message and exit."),  # the help option's, said by Typer's click in English (booking/cli/help.py)
)
USAGE_ERRORS = (
    (re.compile(r"^No such option: (?P<name>\S+)"), N_("No such option: {name}")),
    (re.compile(r"\(Possible options: (?P<names>[^)]*)\)$"), N_("(Possible options: {names})")),
    (re.compile(r"^Invalid value for (?P<param>'[^']*'): "), N_("Invalid value for {param}: ")),
    (re.compile(r"(?P<value>'[^']*') is not a valid (?P<kind>\w+)\.$"), N_("{value} is not a valid {kind}.")),
    (re.compile(r"(?P<value>'[^']*') is not one of (?P<choices>.*)\.$"), N_("{value} is not one of {choices}.")),
    (re.compile(r"^Option (?P<name>'[^']*') requires an argument\.$"), N_("Option {name} requires an argument.")),
    (
        re.compile(r"^Got unexpected extra argument\(s\) \((?P<args>.*)\)$"),
        N_("Got unexpected extra argument(s) ({args})"),
    ),
    (re.compile(r"^Missing option (?P<name>'[^']*')\.?"), N_("Missing option {name}.")),
    (re.compile(r"^Missing argument (?P<name>'[^']*')\.?"), N_("Missing argument {name}.")),
)


def usage_error(message: str) -> str:
    """A usage error of Typer's click, in the language spoken."""
    if spoken() == "en":
        return message
    for pattern, said in USAGE_ERRORS:
        found = pattern.search(message)
        if found is not None:
            message = message[: found.start()] + _(said).format(**found.groupdict()) + message[found.end() :]
    return message


def paragraphs(text: str) -> Iterator[str]:
    """A help text's paragraphs as the catalogue has them (an example's command is never translated)."""
    for paragraph in text.split("\n\n"):
        yield EXAMPLE.strip() if paragraph.startswith(EXAMPLE) else paragraph.strip()


def _translate(text: str) -> str:
    said = []
    for paragraph in text.split("\n\n"):
        if paragraph.startswith(EXAMPLE):
            label = _(EXAMPLE.strip())  # Chinese ends it with a full-width colon: no space after it
            said.append(label + ("" if label.endswith("\uff1a") else " ") + paragraph[len(EXAMPLE) :])
        else:
            said.append(_(paragraph.strip()) if paragraph.strip() else paragraph)
    return "\n\n".join(said)


def help_texts(command: Any) -> Iterator[str]:
    """Every help text of a click command and its subcommands (what the catalogue must translate)."""
    for text in (command.help, command.short_help, *(getattr(p, "help", None) for p in command.params)):
        if text:
            yield from (p for p in paragraphs(text) if p)
    for sub in getattr(command, "commands", {}).values():
        yield from help_texts(sub)


def translated(command: Any) -> Any:
    """`command` with every help text in the language spoken (in place; a command is built per invocation)."""
    if spoken() != "en":
        from booking.cli.help import ColumnsContext

        command.context_class = ColumnsContext  # help in Chinese: measured in columns, broken between characters
    if command.help:
        command.help = _translate(command.help)
    if command.short_help:
        command.short_help = _translate(command.short_help)
    for param in command.params:
        if getattr(param, "help", None):
            param.help = _translate(param.help)
    for sub in getattr(command, "commands", {}).values():
        translated(sub)
    return command
