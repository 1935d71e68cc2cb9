"""Choosing a setting on the validation part, by a rule fixed before the numbers are read.

The compression lessons (09 to 11) choose learning rates, epochs and schedules by one rule,
the same everywhere:

    candidates = the settings whose mean validation accuracy over the seeds is within
                 ``tolerance`` points (0.5) of the best mean;
    pick       = the cheapest candidate (fewest training epochs, or whatever ``cost`` the
                 lesson states), then the highest mean, then the earliest in the grid.

A search too long for a lesson's time budget runs once in a script of ``scripts/`` and
leaves a *record*, a JSON file in ``notebooks/data/validation/``: the question, the rule,
the grid, each setting's cost and, per setting and seed, the number of validation images
classified correctly (integers, so the record does not depend on rounding). The lesson
loads the record with :func:`load_record`, prints its table, applies :func:`choose` itself,
and checks that its own run of the picked setting counts the same images as the record.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lessons_lib import _validate

__all__ = ["RULE", "Record", "candidates", "choose", "load_record", "mean_points", "save_record"]

RULE = ("the cheapest setting (fewest epochs, or the cost the search states) among those whose mean "
        "validation accuracy over the seeds is within {tolerance} points of the best mean; among equally "
        "cheap ones the highest mean; then the first in the grid's order")
RECORD_DIR = Path(__file__).resolve().parent.parent / "notebooks" / "data" / "validation"


def mean_points(correct: object, n_images: int) -> np.ndarray:
    """Mean accuracy in points (percent) of each row: ``100 * correct.mean(axis=1) / n_images``.

    ``correct``: ``(n_settings, n_seeds)`` counts of correctly classified images, each in
    ``[0, n_images]``. Returns ``(n_settings,)`` float64.
    """
    n = _validate.integer(n_images, "n_images", low=1)
    c = _validate.finite(correct, "correct")
    if c.ndim != 2:
        raise ValueError(f"correct must be a 2-D array (settings x seeds); got shape {c.shape}")
    if np.any(c != np.round(c)) or c.min() < 0 or c.max() > n:
        raise ValueError(f"correct must hold whole counts in [0, {n}] (n_images); got values "
                         f"from {c.min()} to {c.max()}")
    return 100.0 * c.mean(axis=1) / n


def candidates(correct: object, n_images: int, tolerance: float = 0.5) -> np.ndarray:
    """Indices (ascending) of the settings whose mean is at least the best mean minus ``tolerance``
    points (a tiny allowance of 1e-9 absorbs rounding): the rule's candidates."""
    means = mean_points(correct, n_images)
    tol = float(_validate.in_range(tolerance, "tolerance", low=0.0))
    return np.flatnonzero(means >= means.max() - tol - 1e-9)


def choose(correct: object, cost: Sequence[float], n_images: int, tolerance: float = 0.5) -> int:
    """Index of the setting the course's rule picks.

    Parameters
    ----------
    correct : ``(n_settings, n_seeds)`` counts of correctly classified validation images
    cost : ``n_settings`` finite numbers >= 0 (for example training epochs): smaller is cheaper
    n_images : the number of validation images each count is out of (int >= 1)
    tolerance : points >= 0; a setting is a candidate when its mean is at least the best mean
        minus ``tolerance`` (a tiny allowance of 1e-9 absorbs rounding)

    Returns
    -------
    The index of the cheapest candidate; among equally cheap ones the highest mean; among those
    the first in the grid's order.
    """
    means = mean_points(correct, n_images)
    costs = _validate.finite(cost, "cost")
    if costs.ndim != 1 or costs.size != means.size:
        raise ValueError(f"cost must hold one number per setting ({means.size}); got shape {costs.shape}")
    if costs.min() < 0:
        raise ValueError(f"cost must be >= 0; got {costs.min()}")
    among = candidates(correct, n_images, tolerance)
    cheapest = among[costs[among] == costs[among].min()]
    return int(cheapest[np.argmax(means[cheapest])])  # argmax returns the first of equal means


@dataclass(frozen=True)
class Record:
    """A validation search, as a script left it.

    Attributes
    ----------
    question : what was chosen, in a sentence
    rule : the rule, in words, as stated before the search ran
    script : the repository path of the script that wrote the record
    seeds : the seeds every setting ran with
    n_images : validation images each count is out of
    settings : one mapping per setting (name -> value), in the grid's order
    cost : one number per setting, the ``cost`` of :func:`choose`
    correct : ``(n_settings, n_seeds)`` int array of correctly classified validation images
    tolerance : the rule's tolerance in points
    """

    question: str
    rule: str
    script: str
    seeds: tuple[int, ...]
    n_images: int
    settings: tuple[Mapping[str, Any], ...]
    cost: tuple[float, ...]
    correct: np.ndarray
    tolerance: float = 0.5

    @property
    def means(self) -> np.ndarray:
        """``(n_settings,)`` mean validation accuracy in points."""
        return mean_points(self.correct, self.n_images)

    @property
    def pick(self) -> int:
        """The index :func:`choose` gives for this record."""
        return choose(self.correct, self.cost, self.n_images, self.tolerance)

    def find(self, **setting: Any) -> int:
        """Index of the setting equal to ``setting`` (``ValueError`` if there is none)."""
        for i, s in enumerate(self.settings):
            if dict(s) == setting:
                return i
        raise ValueError(f"setting must be one of the record's {len(self.settings)}; got {setting}")


def _record_name(name: object) -> str:
    """``name`` checked as a record's name, ``<name>.json`` in the record folder: a str (``TypeError``
    otherwise) of ASCII letters, digits and underscores (``ValueError`` otherwise)."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str; got {type(name).__name__}")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise ValueError(f"name must be ASCII letters, digits and underscores; got {name!r}")
    return name


def save_record(record: Record, name: str) -> Path:
    """Write ``record`` to ``notebooks/data/validation/<name>.json``; returns the path."""
    if not isinstance(record, Record):
        raise TypeError(f"record must be a Record; got {type(record).__name__}")
    name = _record_name(name)
    correct = np.asarray(record.correct)
    mean_points(correct, record.n_images)  # validates the counts
    if correct.shape != (len(record.settings), len(record.seeds)) or len(record.cost) != len(record.settings):
        raise ValueError(f"record.correct must be (settings, seeds) = ({len(record.settings)}, "
                         f"{len(record.seeds)}) and record.cost one per setting; got {correct.shape} "
                         f"and {len(record.cost)}")
    RECORD_DIR.mkdir(parents=True, exist_ok=True)
    path = RECORD_DIR / f"{name}.json"
    body = {"question": record.question, "rule": record.rule, "script": record.script,
            "seeds": list(record.seeds), "n_images": record.n_images, "tolerance": record.tolerance,
            "settings": [dict(s) for s in record.settings], "cost": list(record.cost),
            "correct": correct.astype(int).tolist()}
    path.write_text(json.dumps(body, indent=1) + "\n")
    return path


def record_dirs() -> list[Path]:
    """Where :func:`load_record` looks, in order: ``data/validation/`` in the current folder (a
    lesson runs in its own folder: an nbgrader assignment's released ``data/`` holds the records its
    notebook reads), then :data:`RECORD_DIR`, the checkout's ``notebooks/data/validation/`` (absent
    from a non-editable install)."""
    here = (Path.cwd() / "data" / "validation").resolve()
    return [here] if here == RECORD_DIR else [here, RECORD_DIR]


def load_record(name: str, folder: str | Path | None = None) -> Record:
    """The record ``<name>.json``: from ``folder`` if given (the scripts that write records read them
    back from :data:`RECORD_DIR` so; a relative one is read from the current folder), else from the
    first of :func:`record_dirs` that has it (a lesson, in its own folder or in a released assignment's).
    ``name``: ASCII letters, digits and underscores, as :func:`save_record` takes it; ``folder``: None or an
    existing folder (``TypeError`` for another type). ``ValueError`` naming the records found if none
    has the record, or saying that no record folder exists."""
    name = _record_name(name)
    if folder is not None:
        if not isinstance(folder, str | os.PathLike):
            raise TypeError(f"folder must be None, a str or a path; got {type(folder).__name__}")
        if not str(folder) or not Path(folder).is_dir():
            raise ValueError(f"folder must be an existing folder; got {str(folder)!r}")
    folders = record_dirs() if folder is None else [Path(folder)]
    path = next((d / f"{name}.json" for d in folders if (d / f"{name}.json").is_file()), None)
    if path is None:
        where = ", ".join(str(d) for d in folders)
        if not any(d.is_dir() for d in folders):
            raise ValueError(f"no record folder exists (looked in {where}); got name {name!r}")
        known = sorted({p.stem for d in folders for p in d.glob("*.json")})
        raise ValueError(f"name must be one of the records {known} (looked in {where}); got {name!r}")
    body = json.loads(path.read_text())
    return Record(question=body["question"], rule=body["rule"], script=body["script"],
                  seeds=tuple(body["seeds"]), n_images=int(body["n_images"]),
                  settings=tuple(body["settings"]), cost=tuple(body["cost"]),
                  correct=np.asarray(body["correct"], dtype=np.int64),
                  tolerance=float(body["tolerance"]))
