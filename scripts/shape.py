"""The shape booking keeps (README, Layout): run by scripts/check; exits 1 naming what is out of shape.

- no import cycle between booking's modules, counting imports inside functions;
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


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(name: str, path: Path, tree: ast.AST, known: dict[str, Path]) -> set[str]:
    """The booking modules `name` imports, anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
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
        out |= {t for t in targets if t in known and t != name and not name.startswith(t + ".")}
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


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from booking.strategies import STRATEGIES

    names = "|".join(re.escape(n) for n in STRATEGIES)
    compared = re.compile(rf"""(==|!=|\bin\b)\s*\(?\s*["']({names})["']|["']({names})["']\s*(==|!=|\bin\b)""")
    known = modules()
    graph: dict[str, set[str]] = {}
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
    problems += [f"import cycle: {' <-> '.join(c)}" for c in cycles(graph)]
    for problem in problems:
        print(problem)
    print(f"shape: {len(known)} modules, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
