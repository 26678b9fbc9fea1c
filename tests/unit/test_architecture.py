"""The house's rules, read from the source (docs/architecture.md explains them): imports run one way
between layers, no import cycle, no import hidden inside a function (bot/cli.py excepted, for
start-up speed), the state machine performs no I/O, and importing any module opens no connection.
A change that breaks one fails here, naming the import."""
from __future__ import annotations

import ast
import subprocess
import sys
from functools import cache
from pathlib import Path

from radon.complexity import cc_rank, cc_visit

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "channels", "workers", "statemachine")

# Lowest first: a module may import modules of its own layer and of the layers below it.
LAYERS = (
    ("the conversation", ("statemachine",)),
    ("foundation", ("bot.common", "bot.config")),
    ("the shop's domain", ("bot.shop",)),
    ("pipeline and store", ("bot.pipeline", "bot.store")),
    ("services", ("bot.nlu", "bot.customers", "bot.outreach", "bot.payments", "bot.operations")),
    ("edges", ("bot.web", "channels", "workers")),
    ("start-up", ("bot.app", "bot.runtime", "bot.connections", "bot.doctor", "bot.cli", "bot.wsgi", "bot.__main__",
                  "bot")),
)
# Within a layer, packages that must not know each other (the web's plumbing is the only door
# from channels into bot.web: the runtime accessor, Bearer tokens and the JSON body reader).
FORBIDDEN = (
    ("bot.pipeline", "bot.store"), ("bot.store", "bot.pipeline"),
    ("bot.web", "channels"), ("bot.web", "workers"), ("workers", "bot.web"), ("workers", "channels."),
    ("channels", "workers"),
)
CHANNELS_MAY_USE = ("bot.web.current", "bot.web.bearer", "bot.web.json_body")
WORKERS_MAY_USE = ("channels.base",)  # the Sender protocol the runtime's senders follow
STATEMACHINE_THIRD_PARTY = {"transitions"}  # the conversation is pure: no Redis, Mongo or HTTP
LAZY_IMPORTS_ALLOWED = {"bot.cli"}


def module_name(path: Path) -> str:
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return name.removesuffix(".__init__")


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    """Imports under `if TYPE_CHECKING:` are for annotations only: never run, so never a cycle."""
    return {id(n) for top in tree.body if isinstance(top, ast.If) and "TYPE_CHECKING" in ast.unparse(top.test)
            for n in ast.walk(top)}


def _targets(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    assert node.level == 0, "relative import (ruff TID252 forbids them)"
    known = modules()
    return [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module for a in node.names]


def _owner(target: str) -> str | None:
    """The project module an import names (None for the standard library and third parties)."""
    known = modules()
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target or None


@cache
def imports() -> dict[str, dict[str, list]]:
    """module -> {"top": [(target, line)], "lazy": [(target, line)], "third": [names]}"""
    out = {}
    for name, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_nodes(tree)
        in_functions = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                        for n in ast.walk(f)}
        found = {"top": [], "lazy": [], "third": []}
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)) or id(node) in skip:
                continue
            for target in _targets(node):
                owner = _owner(target)
                if owner is None:
                    found["third"].append(target.partition(".")[0])
                elif owner != name:
                    found["lazy" if id(node) in in_functions else "top"].append((owner, node.lineno))
        out[name] = found
    return out


def layer_of(module: str) -> int:
    best, best_len = None, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    assert best is not None, f"{module} is in no layer: add it to LAYERS (tests/unit/test_architecture.py)"
    return best


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix.rstrip(".") + ".") or (
        prefix.endswith(".") and module.startswith(prefix))


def test_every_import_runs_down_the_layers():
    wrong = []
    for module, found in imports().items():
        for target, line in found["top"] + found["lazy"]:
            if layer_of(target) > layer_of(module):
                wrong.append(f"{module}:{line} imports {target} "
                             f"({LAYERS[layer_of(module)][0]} -> {LAYERS[layer_of(target)][0]})")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_packages_of_one_layer_keep_to_their_doors():
    wrong = []
    for module, found in imports().items():
        for target, line in found["top"]:
            for source, banned in FORBIDDEN:
                if _within(module, source) and _within(target, banned) and not (
                        source == "workers" and target in WORKERS_MAY_USE):
                    wrong.append(f"{module}:{line} imports {target}")
            if _within(module, "channels") and _within(target, "bot.web") and target not in CHANNELS_MAY_USE:
                wrong.append(f"{module}:{line} imports {target} (channels use only {', '.join(CHANNELS_MAY_USE)})")
    assert not wrong, "\n".join(wrong)


def test_no_import_hides_in_a_function():
    lazy = [f"{m}:{line} imports {t}" for m, found in imports().items() if m not in LAZY_IMPORTS_ALLOWED
            for t, line in found["lazy"]]
    assert not lazy, "in-function imports (a cycle being dodged?):\n" + "\n".join(lazy)


def test_no_import_cycle():
    graph = {m: {t for t, _ in found["top"]} for m, found in imports().items()}
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_conversation_does_no_io():
    wrong = {m: sorted(set(found["third"]) - STATEMACHINE_THIRD_PARTY - set(sys.stdlib_module_names))
             for m, found in imports().items() if _within(m, "statemachine")}
    assert not {m: w for m, w in wrong.items() if w}


def test_importing_any_module_opens_no_connection():
    """Every module imported in a fresh interpreter whose sockets refuse to connect."""
    names = sorted(m for m in modules() if m not in ("bot.__main__", "bot.wsgi"))
    code = ("import socket\n"
            "def refuse(*a, **k): raise AssertionError('a connection opened at import')\n"
            "socket.socket.connect = refuse; socket.create_connection = refuse\n"
            "import importlib\n"
            f"for name in {names!r}: importlib.import_module(name)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def _functions(blocks):
    """Every function radon measured: methods of classes and functions nested in functions too."""
    for block in blocks:
        if hasattr(block, "methods"):
            yield from _functions(block.methods)
        else:
            yield block
            yield from _functions(block.closures)


def test_no_function_is_more_complex_than_radon_c():
    """Radon's grade C is at most 20 decisions: past it, a function is split into steps with names."""
    over = sorted({f"{module}:{fn.lineno} {fn.name} ({cc_rank(fn.complexity)}, {fn.complexity})"
                   for module, path in modules().items()
                   for fn in _functions(cc_visit(path.read_text(encoding="utf-8")))
                   if cc_rank(fn.complexity) > "C"})
    assert not over, "functions above radon C:\n" + "\n".join(over)
