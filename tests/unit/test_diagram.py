"""The Mermaid diagram in statemachine/CONVERSATION.md shows exactly the machine's transitions."""
import re
from pathlib import Path

from statemachine.machine import STATES, TRANSITIONS

DOC = Path(__file__).resolve().parents[2] / "statemachine" / "CONVERSATION.md"


def test_diagram_matches_transitions():
    text = DOC.read_text()
    drawn = set(re.findall(r"^\s+(\w+) --> (\w+): (\w+)$", text, re.M))
    defined = {(s, d, t) for t, sources, d in TRANSITIONS if sources != "*" for s in sources}
    assert drawn == defined
    for trigger, sources, dest in TRANSITIONS:
        if sources == "*":
            assert f"From any state, `{trigger}` goes to `{dest}`" in text


def test_every_state_is_drawn_and_documented():
    text = DOC.read_text()
    for state in STATES:
        assert re.search(rf"^\| {state} \|", text, re.M), state
        assert re.search(rf"\b{state}\b --> |--> {state}\b", text), state
