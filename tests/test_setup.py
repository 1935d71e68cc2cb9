"""lessons_lib.setup: seeds, the thread count only when asked, and one gc.freeze a process.

In the pytest process gc.freeze does nothing (conftest's autouse fixture), so the tests here that
call setup() freeze nothing of the test run; the freezing is tested in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys

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
figure = {}                    # a student's object, reachable (in a cycle) at a second call
figure["self"] = figure
figure["node"] = node = Node()
alive = weakref.ref(node)
del node
lessons_lib.setup(seed=1)      # a second call (a re-run setup cell) freezes nothing
assert gc.get_freeze_count() <= frozen, "a second setup() froze more objects"  # frees may lower it
assert any(o is figure for o in gc.get_objects()), "an object alive at a second setup() was frozen"
del figure
gc.collect()
assert alive() is None, "a cycle alive at a second setup() was not collected once dropped"
import importlib
importlib.reload(lessons_lib)  # a reloaded lessons_lib (autoreload) freezes nothing either
again = {}
again["self"] = again
lessons_lib.setup()
assert any(o is again for o in gc.get_objects()), "setup() after a reload froze again"
print("ok")
"""


def test_setup_freezes_what_is_alive_once_and_collects_the_rest():
    """The first setup() collects garbage, then freezes the survivors (gc.freeze): a cycle
    unreachable at the call is freed, an object alive at the call leaves the collected
    generations, and cycles made afterwards are still collected. A second call (a student
    re-running the setup cell), or a call after reloading lessons_lib, freezes nothing: a cycle
    alive at it is collected once dropped. In a fresh interpreter: freezing is for the whole process."""
    done = subprocess.run([sys.executable, "-c", _FREEZE], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


_AT_EXIT = r"""
import gc, os, sys
import lessons_lib

class Noisy:
    def __del__(self):  # os.write: print's buffer may be gone by then (unless PYTHONUNBUFFERED is set)
        os.write(1, b"collected at exit\n")

if sys.argv[1] == "setup":
    lessons_lib.setup()
os.write(1, b"end\n")
made = Noisy()          # after setup, as a lesson's figures and tensors are
made.self = made        # a reference cycle, unreachable once dropped but not yet collected
del made
gc.disable()            # no collection before exit: the interpreter's own ones decide
"""


@pytest.mark.parametrize(("before_exit", "printed"), [
    ("setup", ["end"]),  # frozen at exit: the final collections skip the cycle
    ("none", ["end", "collected at exit"]),  # the control: without setup the interpreter collects it
])
def test_setup_freezes_again_at_exit(before_exit, printed):
    """setup() also registers gc.freeze at exit, so the interpreter's final collections skip the
    objects a lesson made after setup (a kernel's shutdown then takes less time): a cycle made after
    setup, unreachable but not yet collected at exit, is not finalized. The control run shows that
    the interpreter does collect such a cycle at exit when nothing froze it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # as on a clean machine
    done = subprocess.run([sys.executable, "-c", _AT_EXIT, before_exit], capture_output=True, text=True,
                          timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:-1] == printed


_TEMPDIR_AT_EXIT = """
import pathlib, sys, tempfile
import lessons_lib

lessons_lib.setup()
holder = {"dir": tempfile.TemporaryDirectory()}  # as lesson 11's workdir, and in a reference cycle
holder["self"] = holder
print(holder["dir"].name)
"""


def test_a_temporary_directory_is_still_removed_at_exit():
    """What the freeze at exit leaves alone: a TemporaryDirectory (lesson 11's workdir) is removed
    through weakref.finalize at exit, also when it sits in a reference cycle."""
    import pathlib

    done = subprocess.run([sys.executable, "-c", _TEMPDIR_AT_EXIT], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    made = pathlib.Path(done.stdout.strip())
    assert made.name.startswith("tmp") and not made.exists()
