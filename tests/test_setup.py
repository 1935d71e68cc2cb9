"""lessons_lib.setup: seeds, the thread count only when asked, and one gc.freeze a process.

The tests here that call setup() in the pytest process itself mark that process as frozen
already (the autouse fixture), so they freeze nothing of the test run; the freezing is tested in
a fresh interpreter."""

from __future__ import annotations

import pytest
import torch

import lessons_lib


@pytest.fixture(autouse=True)
def _no_freezing_in_the_test_process(monkeypatch):
    monkeypatch.setattr(lessons_lib, "_frozen", True)


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


_FREEZE = """
import gc, weakref
import lessons_lib

class Node:
    pass

def cycle():
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)

gc.disable()                   # only the collections this script asks for
garbage = cycle()              # unreachable before setup: collected, not frozen
kept = Node()                  # alive at setup: frozen
assert gc.get_freeze_count() == 0
lessons_lib.setup()
assert garbage() is None, "a garbage cycle was frozen instead of collected"
assert gc.get_freeze_count() > 10_000, gc.get_freeze_count()
assert not any(o is kept for o in gc.get_objects()), "an object alive at setup is not frozen"
later = cycle()                # made after setup: still collected
assert later() is not None
gc.collect()
assert later() is None, "a cycle made after setup was not collected"
frozen = gc.get_freeze_count()
between = cycle()              # alive at a second call: a second call freezes nothing
lessons_lib.setup(seed=1)
assert gc.get_freeze_count() <= frozen, "a second setup() froze more objects"  # frees may lower it
assert between() is not None
gc.collect()
assert between() is None, "a cycle alive at a second setup() was not collected afterwards"
print("ok")
"""


def test_setup_freezes_what_is_alive_once_and_collects_the_rest():
    """The first setup() collects garbage, then freezes the survivors (gc.freeze): a cycle
    unreachable at the call is freed, an object alive at the call leaves the collected
    generations, and cycles made afterwards are still collected. A second call (a student
    re-running the setup cell) freezes nothing: what was alive at it is still collected later.
    In a fresh interpreter: freezing is for the whole process."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _FREEZE], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
