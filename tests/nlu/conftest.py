"""Prints the NLU test set's score at the end of every run that scored it (make test included)."""
from __future__ import annotations


def pytest_terminal_summary(terminalreporter):
    from tests.nlu import scoring

    if scoring.LAST is not None:
        terminalreporter.write_sep("-", "understanding")
        terminalreporter.write_line(scoring.LAST.summary())
