"""lessons_lib.setup: seeds, and the thread count only when asked."""

from __future__ import annotations

import pytest
import torch

import lessons_lib


def test_one_thread_unless_asked(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.delenv("LESSONS_THREADS", raising=False)
        torch.set_num_threads(2)
        lessons_lib.setup()
        assert torch.get_num_threads() == 1
        lessons_lib.setup(threads=2)
        assert torch.get_num_threads() == 2
        monkeypatch.setenv("LESSONS_THREADS", "3")
        lessons_lib.setup()
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize(("env", "threads", "pattern"), [
    ("many", None, "LESSONS_THREADS must be an integer"),
    (None, 0, "threads"),
    (None, 1000, "threads"),
])
def test_bad_thread_counts(monkeypatch, env, threads, pattern):
    if env is None:
        monkeypatch.delenv("LESSONS_THREADS", raising=False)
    else:
        monkeypatch.setenv("LESSONS_THREADS", env)
    with pytest.raises(ValueError, match=pattern):
        lessons_lib.setup(threads=threads)


def test_seeding_repeats_the_same_draws():
    lessons_lib.setup(seed=3)
    first = torch.rand(3)
    lessons_lib.setup(seed=3)
    assert torch.equal(torch.rand(3), first)
