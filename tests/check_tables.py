"""What the exercise-check table tests share: an answer a check accepts, an answer it rejects."""

from __future__ import annotations

import re

import pytest

from lessons_lib.checks import NotYet


def passes(check, *args, capsys) -> str:
    """``check(*args)`` prints "Correct: ..." and nothing of a rejection; returns what it printed."""
    check(*args)
    out = capsys.readouterr().out
    assert out.startswith("Correct:") and "Not yet" not in out, out
    return out


def fails(check, *args, match: str | None = None) -> str:
    """``check(*args)`` raises :class:`NotYet` with a message (matching the regex ``match``); returns it."""
    with pytest.raises(NotYet) as error:
        check(*args)
    message = str(error.value)
    assert message, "a rejection without a message"
    if match is not None:
        assert re.search(match, message), f"{match!r} not in {message!r}"
    return message
