"""Every sentence in statemachine/prompts.py is said by at least one tier-1 test.

Runs the state-machine and checkout tests (test_statemachine*.py, test_checkout.py) again while
recording replies, then checks each prompt (constants, and functions called with placeholder
arguments) against what was said. A new prompt nobody can reach fails here until a test reaches it.
"""
from __future__ import annotations

import inspect
import re

from statemachine import prompts
from tests.support import conversation
from tests.unit import test_checkout, test_outreach_conversation, test_statemachine, test_statemachine_understanding

MODULES = (test_statemachine, test_statemachine_understanding, test_checkout, test_outreach_conversation)

MARK = "\u00a7"


def _fragments(value: str) -> list[str]:
    parts = re.split(MARK + r"|\{name\}|\b7\b", value)
    return [p.strip() for p in parts if len(p.strip()) >= 8]


def _prompt_texts() -> dict[str, str]:
    texts = {}
    for name, value in vars(prompts).items():
        if name.startswith("_") or name in ("numbered",):
            continue
        if isinstance(value, str):
            texts[name] = value
        elif inspect.isfunction(value) and value.__module__ == prompts.__name__:
            args = []
            for p in inspect.signature(value).parameters.values():
                ann = str(p.annotation)
                args.append([MARK] if "list" in ann else 7 if "int" in ann else MARK)
            texts[name] = value(*args)
    return texts


def _cases(fn) -> list[dict]:
    """The keyword arguments of each case of a (possibly parametrized) test."""
    cases = [{}]
    for mark in getattr(fn, "pytestmark", []):
        if mark.name == "parametrize":
            names = [n.strip() for n in mark.args[0].split(",")]
            rows = [v if len(names) > 1 else (v,) for v in mark.args[1]]
            cases = [{**c, **dict(zip(names, row, strict=True))} for c in cases for row in rows]
    return cases


def test_every_prompt_is_said_by_some_test():
    conversation.SEEN_REPLIES.clear()
    for name, fn in [item for module in MODULES for item in vars(module).items()]:
        if name.startswith("test_") and inspect.isfunction(fn):
            for kwargs in _cases(fn):
                if "world" in inspect.signature(fn).parameters:
                    kwargs["world"] = conversation.sample_world()
                fn(**kwargs)
    said = "\n".join(conversation.SEEN_REPLIES)
    missing = [name for name, text in _prompt_texts().items()
               if not all(fragment in said for fragment in _fragments(text))]
    assert missing == []


def test_no_two_prompts_share_a_name():
    """A second definition silently replaces the first (two branches each adding one, merged)."""
    import ast
    from collections import Counter

    tree = ast.parse(inspect.getsource(prompts))
    names = Counter(n.name for n in tree.body if isinstance(n, ast.FunctionDef))
    names.update(t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name))
    assert [name for name, n in names.items() if n > 1] == []
