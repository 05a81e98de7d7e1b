"""The shape booking keeps (README, Layout): run by scripts/check; exits 1 naming what is out of shape.

Imports count wherever they are (inside functions, under TYPE_CHECKING).
- no import cycle between booking's modules, nor between its folders (a loose module is a folder of its
  own, and so is the facade booking/__init__.py: importing it from inside is a cycle);
- no folder imports one above it in LAYERS (the API's users, cli/ and the rest of USERS, are on top);
- at most 12 modules loose at the top of booking/; no public name of the facade that is a submodule's;
- no module over 300 lines (examples aside), no function body over 60 lines;
- no strategy name compared outside booking/strategies/: the run reads what a strategy declares.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "booking"
MAX_FILE_LINES = 300
MAX_BODY_LINES = 60
MAX_LOOSE = 12
# Top to bottom: a folder (or loose module) imports only those below it. What two share lives below both.
LAYERS = [
    ["cli", "__main__", "pytest_plugin", "examples"],  # the API's users
    ["booking", "api"],  # the facade and the public API it re-exports
    ["render"],  # every word a person reads, from the data below
    ["compare"],
    ["service"],
    ["run"],
    ["hosts"],
    ["processes"],
    ["strategies"],
    ["verdict"],  # the verifier: data in, data out
    ["stores"],
    ["history"],
    ["options"],
    ["kit"],
    ["files"],
    ["i18n"],
    ["redact"],
    ["errors", "_version", "types", "stats"],  # import nothing from booking
]
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def unit(module: str) -> str:
    """The folder (or loose module) a module belongs to; "booking" is the facade."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "booking"


def imports(name: str, path: Path, tree: ast.AST, known: dict[str, Path]) -> dict[str, int]:
    """The booking modules `name` imports, anywhere in its body, each with the line of its first import."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            targets = [base, *(f"{base}.{a.name}" for a in node.names)]
        else:
            continue
        # A package importing its own submodule is how packages work, not a cycle.
        for t in targets:
            if t in known and t != name and not name.startswith(t + "."):
                out.setdefault(t, node.lineno)
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def folders(graph: dict[str, dict[str, int]], known: dict[str, Path]) -> list[str]:
    """Imports from a folder to one above it, and cycles between folders (the facade may import anything)."""
    problems = []
    between: dict[str, set[str]] = {}
    for name, targets in graph.items():
        for target, line in targets.items():
            a, b = unit(name), unit(target)
            if a == b or name == "booking":
                continue
            between.setdefault(a, set()).add(b)
            if RANK.get(b, len(LAYERS)) < RANK.get(a, len(LAYERS)):
                where = known[name].relative_to(ROOT)
                problems.append(f"{where}:{line}: {name} imports {target}, a layer above it ({a} -> {b})")
    units = {u: set(v) for u, v in between.items()}
    problems += [f"folder cycle: {' <-> '.join(c)}" for c in cycles({u: units.get(u, set()) for u in RANK | units})]
    problems += [f"booking/: {u} is in no layer of LAYERS" for u in sorted(set(map(unit, known)) - set(RANK))]
    return problems


def facade(known: dict[str, Path]) -> list[str]:
    """Too many loose modules, facade names that are submodule names, and the facade imported from inside."""
    problems = []
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    if len(loose) > MAX_LOOSE:
        problems.append(f"booking/: {len(loose)} loose modules (at most {MAX_LOOSE}): {', '.join(loose)}")
    subs = {p.stem for p in PACKAGE.glob("*.py")} | {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    subs -= {"__init__", "__main__"}
    for node in ast.walk(ast.parse((PACKAGE / "__init__.py").read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in subs:
            problems.append(f"booking/__init__.py:{node.lineno}: public name {node.value!r} is also a submodule")
    users = tuple(f"booking.{u}" for u in LAYERS[0])
    for name, path in known.items():
        if name.startswith(users) or name == "booking":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.ImportFrom) and node.module == "booking" and node.level == 0):
                continue
            if any(f"booking.{a.name}" not in known for a in node.names):  # a name, not a submodule
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: imports the facade from inside")
    return problems


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from booking.strategies import STRATEGIES

    names = "|".join(re.escape(n) for n in STRATEGIES)
    compared = re.compile(rf"""(==|!=|\bin\b)\s*\(?\s*["']({names})["']|["']({names})["']\s*(==|!=|\bin\b)""")
    known = modules()
    graph: dict[str, dict[str, int]] = {}
    problems: list[str] = []
    for name, path in known.items():
        text = path.read_text()
        tree = ast.parse(text)
        graph[name] = imports(name, path, tree, known)
        where = path.relative_to(ROOT)
        if "examples" in path.parts:
            continue
        if (lines := text.count("\n") + 1) > MAX_FILE_LINES:
            problems.append(f"{where}: {lines} lines (at most {MAX_FILE_LINES})")
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body = (node.end_lineno or 0) - node.body[0].lineno + 1
                if body > MAX_BODY_LINES:
                    problems.append(f"{where}:{node.lineno}: {node.name}() body is {body} lines (at most 60)")
        if "strategies" not in path.parts:
            for number, line in enumerate(text.splitlines(), 1):
                if compared.search(line) and not line.strip().startswith("#"):
                    problems.append(f"{where}:{number}: compares a strategy's name (read what it declares instead)")
    problems += [f"import cycle: {' <-> '.join(c)}" for c in cycles({m: set(t) for m, t in graph.items()})]
    problems += folders(graph, known) + facade(known)
    for problem in problems:
        print(problem)
    print(f"shape: {len(known)} modules, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
