"""The parts' imports point one way: no import cycle inside client/, worker/ or localnet/,
the worker never imports the CLI, and the CLI reaches the worker only through its API
(worker/api.py). Read from the source with ast (nothing is imported), counting every import:
module level, inside functions and under TYPE_CHECKING alike, since each is a dependency
even when Python would tolerate the cycle at run time."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("client", "worker", "localnet")

def module_name(part: str, path: Path) -> str:
    parts = list(path.relative_to(ROOT / part).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([part, *parts])


def imported(part: str, path: Path) -> set[str]:
    """Every crowdcompute module `path` names in an import, as "part.module" (a `from X
    import y` names X and X.y: y may be a module)."""
    me = module_name(part, path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name.removeprefix("crowdcompute.") for a in node.names if a.name.startswith("crowdcompute.")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("crowdcompute."):
                target = node.module.removeprefix("crowdcompute.")
            else:
                continue
            found |= {target} | {f"{target}.{a.name}" for a in node.names}
    return found


def graph(part: str) -> dict[str, set[str]]:
    """Module -> the modules of the project it imports (any part)."""
    return {module_name(part, f): imported(part, f) for f in sorted((ROOT / part).rglob("*.py"))}


def cycles(edges: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan's, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root] & edges.keys())))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child] & edges.keys()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def test_no_import_cycle_within_a_part():
    found = []
    for part in PARTS:
        edges = graph(part)
        found += [sorted(cycle) for cycle in cycles({m: {t for t in targets if t in edges and t != m} for m, targets in edges.items()})]
    assert not found, f"import cycles: {found}"


def test_worker_never_imports_the_cli():
    offending = {m: sorted(t for t in targets if t == "cli" or t.startswith("cli."))
                 for m, targets in graph("worker").items()}
    assert not {m: t for m, t in offending.items() if t}


def test_cli_reaches_the_worker_only_through_its_api():
    offending = {m: sorted(t for t in targets if t.startswith("worker.") and t.rpartition(".")[0] != "worker.api"
                           and t != "worker.api")
                 for m, targets in graph("cli").items()}
    assert not {m: t for m, t in offending.items() if t}


def test_the_reader_sees_a_cycle():
    # a self-check of the graph code, on a cycle made up here
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
