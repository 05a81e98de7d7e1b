"""The docs kept in step with the CLI, as sqlite-utils' tests/test_docs.py keeps its own.

Every command of the real command tree (built in-process from Typer's `app`, groups recursed) has
help text and a heading in docs/cli.md, and every option's long name is named under that heading.
The README stays a start page (at most 200 lines, the Quick start verbatim), and every relative
link in README.md and docs/*.md reaches a file (and a heading, when it names one).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from booking.cli.main import app

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CLI_DOC = ROOT / "docs" / "cli.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 200
QUICK_START = (
    "pip install -e . && booking simulate --buyers 10 --no-lock",
    "pip install -e '.[test]' && pytest",
)

# A command's heading in docs/cli.md: "## `booking db upgrade`" (any level, the command alone in backticks).
COMMAND_HEADING = re.compile(r"^#{1,6} `(booking(?: [\w-]+)*)`", re.MULTILINE)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} +(.+?) *#*$", re.MULTILINE)


# Typer builds its commands on the click it ships (typer._click), not on an installed `click`: the tree is
# read by what it has (`commands`, `params`, `param_type_name`), never by isinstance.
Command = Any


def walk(command: Command, path: str = "booking") -> Iterator[tuple[str, Command]]:
    """Every command of the tree, the group itself first, as (`booking db upgrade`, command)."""
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from walk(sub, f"{path} {name}")


def options(command: Command) -> list[Any]:
    return [p for p in command.params if p.param_type_name == "option"]


def sections(doc: str) -> dict[str, str]:
    """Each command heading's text: from the heading to the next command heading."""
    found = list(COMMAND_HEADING.finditer(doc))
    ends = [m.start() for m in found[1:]] + [len(doc)]
    return {m.group(1): doc[m.end() : end] for m, end in zip(found, ends, strict=True)}


def option_names(command: Command) -> list[str]:
    """The name each option is documented by: its first long name (`--think`), else its first name."""
    names = []
    for param in options(command):
        given = [*param.opts, *param.secondary_opts]
        names.append(next((n for n in given if n.startswith("--")), given[0]))
    return names


def mentions(text: str, option: str) -> bool:
    """`--run` named as itself, not as part of `--runs` or `--run-id`."""
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text) is not None


def problems(path: str, command: Command, documented: dict[str, str]) -> list[str]:
    """What docs/cli.md lacks for one command: its help, its heading, an option under its heading."""
    found = []
    if not (command.help or command.short_help or "").strip():
        found.append(f"{path}: no help text")
    for param in options(command):
        if not (param.help or "").strip():
            found.append(f"{path}: {param.opts[0]} has no help text")
    if path not in documented:
        return [*found, f"{path}: no heading `{path}` in docs/cli.md"]
    for option in option_names(command):
        if not mentions(documented[path], option):
            found.append(f"{path}: {option} is not in docs/cli.md under its heading")
    return found


COMMANDS = list(walk(typer.main.get_command(app)))


@pytest.fixture(scope="module")
def cli_doc() -> dict[str, str]:
    return sections(CLI_DOC.read_text(encoding="utf-8"))


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[path for path, _ in COMMANDS])
def test_command_is_documented(path: str, command: Command, cli_doc: dict[str, str]) -> None:
    """Every command has help text and a heading in docs/cli.md that names each of its options."""
    assert problems(path, command, cli_doc) == []


def test_the_tree_is_walked() -> None:
    """The walk reaches the subcommands of a group (`booking db upgrade`), not only the top level."""
    paths = [path for path, _ in COMMANDS]
    assert {"booking", "booking simulate", "booking serve", "booking db", "booking db upgrade"} <= set(paths)


class TestTheCheckerCanFail:
    """Control tests: the checker reports what is missing, so a passing run means something."""

    @staticmethod
    def tiny() -> Command:
        """A tiny command tree built the way booking's is (Typer, then typer.main.get_command)."""
        tiny = typer.Typer(help="A tiny tree.")

        @tiny.command(help="Do a thing.")
        def thing(
            documented: str = typer.Option("", "--documented", help="Said in the docs."),
            secret_flag: bool = typer.Option(False, "--secret-flag", help="Never said in the docs."),
        ) -> None: ...

        @tiny.command()
        def bare() -> None: ...

        return typer.main.get_command(tiny)

    def test_undocumented_option(self) -> None:
        """An option absent from its command's section is reported by its long name."""
        doc = sections("## `booking`\n\n## `booking thing`\n\n- `--documented`: said.\n")
        tree = dict(walk(self.tiny()))
        assert problems("booking thing", tree["booking thing"], doc) == [
            "booking thing: --secret-flag is not in docs/cli.md under its heading"
        ]

    def test_option_under_another_heading(self) -> None:
        """An option named only under another command's heading does not count for this one."""
        doc = sections("## `booking thing`\n\n- `--documented`\n\n## `booking bare`\n\n`--secret-flag`\n")
        tree = dict(walk(self.tiny()))
        assert problems("booking thing", tree["booking thing"], doc) == [
            "booking thing: --secret-flag is not in docs/cli.md under its heading"
        ]

    def test_prefix_is_not_a_mention(self) -> None:
        """`--documented-too` does not document `--documented`."""
        assert not mentions("`--documented-too`", "--documented")
        assert mentions("- `--documented` (1): said.", "--documented")

    def test_no_help_and_no_heading(self) -> None:
        """A command without help text and without a heading is reported twice."""
        tree = dict(walk(self.tiny()))
        assert problems("booking bare", tree["booking bare"], {}) == [
            "booking bare: no help text",
            "booking bare: no heading `booking bare` in docs/cli.md",
        ]


def test_readme_is_a_start_page() -> None:
    """The README stays short and keeps the Quick start's two commands verbatim, each a line of its own."""
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move the detail into docs/"
    for command in QUICK_START:
        assert command in lines, f"README.md lost its Quick start command: {command}"


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    for heading in HEADING.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
        base = slug(heading)
        name, n = base, 0
        while name in found:
            n += 1
            name = f"{base}-{n}"
        found.add(name)
    return found


def links(page: Path) -> Iterator[str]:
    """The relative links of a page (outside code blocks): files, and headings in them."""
    for target in LINK.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: are not checked here
            yield target


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_relative_links_resolve(page: Path) -> None:
    """Every relative link reaches a file in the repository, and a heading there when it names one."""
    broken = []
    for target in links(page):
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve() if file else page
        if not path.is_file():
            broken.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(f"{target}: no such heading in {path.relative_to(ROOT)}")
    assert broken == []


def test_link_checker_can_fail(tmp_path: Path) -> None:
    """A link to a missing file or heading is caught; links inside code blocks and to the web are not links."""
    page = tmp_path / "page.md"
    page.write_text(
        "# Top\n\n## `booking compare --format json`, field by field\n\n"
        "[ok](#top) [missing](gone.md) [web](https://example.org/x.md)\n\n```\n[code](nowhere.md)\n```\n",
        encoding="utf-8",
    )
    assert list(links(page)) == ["#top", "gone.md"]
    assert anchors(page) == {"top", "booking-compare---format-json-field-by-field"}
