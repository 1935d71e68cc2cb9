"""The seed articles' claims as data: load, validate, tabulate, and keep score.

``notebooks/data/seed_claims.csv`` holds one claim per row with the columns

* ``seed``: the seed article's file name (in ``notebooks/data/seeds/``);
* ``quote``: the claim, copied verbatim from the seed (Chinese; whitespace may differ);
* ``translation``: an English rendering;
* ``verdict``: one of :data:`VERDICTS`;
* ``evidence``: why, with numbers or references;
* ``check``: the tag of the computation in lesson 14 that settles the claim, or
  ``"citation"`` when only the literature can;
* ``topic``: one of :data:`TOPICS`.

All rows that share a check tag share a verdict: a tag names one computation, and
one computation gives one verdict. :func:`problems` lists every way a table breaks
these rules; :class:`Ledger` records the verdicts a notebook computes and compares
them with the table.

:func:`run_code` runs a seed's code in a fresh namespace and returns the exception
it raises instead of raising it; :func:`offline_mnist` lends the seeds' MNIST code a
stand-in ``torchvision`` that serves the scikit-learn digits, so that it runs
without a download.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import csv
import importlib.util
import io
import pathlib
import re
import sys
import textwrap
import types
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "VERDICTS", "TOPICS", "COLUMNS", "CITATION", "Claim", "DATA", "load_claims", "load_seeds",
    "collapse", "problems", "validate", "judge", "crosstab", "format_table", "code_blocks",
    "RunResult", "run_code", "describe", "undefined_names", "offline_mnist", "Ledger",
    "installed_file", "source_default",
]

VERDICTS = ("holds", "misleading", "does not hold", "unverifiable")
TOPICS = {
    "history": "history and attribution",
    "api": "API names",
    "formula": "formulas and notation",
    "arithmetic": "the worked arithmetic",
    "convergence": "momentum and convergence",
    "compression": "momentum and compression",
    "quantization": "momentum and quantized networks",
    "code": "the seeds' code",
}
COLUMNS = ("seed", "quote", "translation", "verdict", "evidence", "check", "topic")
CITATION = "citation"
DATA = pathlib.Path(__file__).resolve().parents[1] / "notebooks" / "data"
_TAG = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Claim:
    """One row of the table. ``row`` counts data rows from 1; ``id`` is ``"SSS-kk"``,
    the seed's number and the row's place among that seed's rows."""

    row: int
    id: str
    seed: str
    quote: str
    translation: str
    verdict: str
    evidence: str
    check: str
    topic: str

    @property
    def seed_no(self) -> str:
        return self.seed[:3]


def load_claims(path: str | pathlib.Path | None = None) -> list[Claim]:
    """Read the claims table (default ``notebooks/data/seed_claims.csv``).

    Raises ``ValueError`` if a column of :data:`COLUMNS` is missing.
    """
    path = pathlib.Path(path) if path is not None else DATA / "seed_claims.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"path: the table {path.name} lacks the columns {missing}; "
                             f"it must have {list(COLUMNS)}")
        rows = list(reader)
    claims, per_seed = [], Counter()
    for i, r in enumerate(rows, 1):
        per_seed[r["seed"]] += 1
        claims.append(Claim(row=i, id=f"{r['seed'][:3]}-{per_seed[r['seed']]:02d}",
                            **{c: (r[c] or "").strip() for c in COLUMNS}))
    return claims


def load_seeds(folder: str | pathlib.Path | None = None) -> dict[str, str]:
    """The seed articles by file name (default folder ``notebooks/data/seeds``)."""
    folder = pathlib.Path(folder) if folder is not None else DATA / "seeds"
    seeds = {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))}
    if not seeds:
        raise ValueError(f"folder: no seed articles (*.txt) in {folder}")
    return seeds


def collapse(text: str) -> str:
    """``text`` with every run of whitespace replaced by one space, ends stripped."""
    return " ".join(text.split())


def problems(claims: Sequence[Claim], seeds: dict[str, str]) -> list[str]:
    """Every way ``claims`` breaks the table's rules (an empty list when none).

    Rules: verdict in :data:`VERDICTS`, topic in :data:`TOPICS`, check a lower-case tag,
    the seed one of ``seeds``, the quote (whitespace collapsed) found in that seed,
    no quote twice, and one verdict per check tag other than ``"citation"``.
    """
    out: list[str] = []
    flat = {name: collapse(text) for name, text in seeds.items()}
    seen: set[tuple[str, str]] = set()
    for c in claims:
        where = f"row {c.row} ({c.id})"
        if c.verdict not in VERDICTS:
            out.append(f"{where}: verdict {c.verdict!r} is not one of {list(VERDICTS)}")
        if c.topic not in TOPICS:
            out.append(f"{where}: topic {c.topic!r} is not one of {list(TOPICS)}")
        if not _TAG.match(c.check):
            out.append(f"{where}: check {c.check!r} is not a tag like 'momentum_rate_vs_beta'")
        for name in ("quote", "translation", "evidence"):
            if not getattr(c, name):
                out.append(f"{where}: {name} is empty")
        if c.seed not in flat:
            out.append(f"{where}: seed {c.seed!r} is not one of {sorted(flat)}")
        elif c.quote and collapse(c.quote) not in flat[c.seed]:
            out.append(f"{where}: the quote is not verbatim in {c.seed}: {c.quote[:40]!r}")
        key = (c.seed, collapse(c.quote))
        if key in seen:
            out.append(f"{where}: the same quote appears twice for {c.seed}")
        seen.add(key)
    verdicts: dict[str, set[str]] = {}
    for c in claims:
        if c.check != CITATION:
            verdicts.setdefault(c.check, set()).add(c.verdict)
    for tag, vs in sorted(verdicts.items()):
        if len(vs) > 1:
            out.append(f"check {tag!r}: its rows disagree ({sorted(vs)}); one computation, one verdict")
    return out


def validate(claims: Sequence[Claim], seeds: dict[str, str]) -> None:
    """Raise ``ValueError`` listing every problem found by :func:`problems`."""
    found = problems(claims, seeds)
    if found:
        raise ValueError("claims: the table breaks its rules:\n  " + "\n  ".join(found))


def judge(literal: bool, core: bool = False) -> str:
    """The verdict from two findings: does the claim hold as stated, and if not, is
    its core right? ``holds``; else ``misleading`` (a right core, wrongly stated or
    overstated); else ``does not hold``.

    A core that is consistent only with an error (a number that fits the seed's wrong
    arithmetic and nothing else) is not a right core. An assumed number, a premise with
    no data given, is not judged here: it is ``unverifiable`` when some data could give
    it where the seed uses it, and ``does not hold`` when no data could; the caller
    decides that and passes the verdict to :meth:`Ledger.settle` directly."""
    if literal:
        return "holds"
    return "misleading" if core else "does not hold"


def crosstab(claims: Iterable[Claim], rows: str, cols: str) -> dict[str, Counter]:
    """Counts of ``claims`` by the attribute ``rows`` (outer) and ``cols`` (inner)."""
    out: dict[str, Counter] = {}
    for c in claims:
        out.setdefault(getattr(c, rows), Counter())[getattr(c, cols)] += 1
    return out


def format_table(rows: Sequence[Sequence[object]], headers: Sequence[str],
                 widths: Sequence[int] | None = None) -> str:
    """A fixed-width text table; a cell longer than its column is cut with ``~``.

    Numbers are right-aligned, text left-aligned; ``widths`` defaults to the widest cell.
    """
    cells = [[str(h) for h in headers]] + [[str(v) for v in r] for r in rows]
    if widths is None:
        widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    numeric = [all(isinstance(r[i], int | float | np.integer | np.floating) for r in rows)
               for i in range(len(headers))]

    def cut(s: str, w: int) -> str:
        return s if len(s) <= w else s[: w - 1] + "~"

    lines = []
    for k, r in enumerate(cells):
        parts = [cut(s, w).rjust(w) if numeric[i] and k else cut(s, w).ljust(w)
                 for i, (s, w) in enumerate(zip(r, widths, strict=True))]
        lines.append("  ".join(parts).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def code_blocks(text: str, lang: str = "python") -> list[str]:
    """The fenced code blocks of ``text`` marked with ``lang``, in order, dedented."""
    pattern = re.compile(r"^[ \t]*```" + re.escape(lang) + r"[ \t]*\n(.*?)^[ \t]*```", re.S | re.M)
    return [textwrap.dedent(m.group(1)) for m in pattern.finditer(text)]


@dataclass
class RunResult:
    """What running a piece of code did: its namespace, printed text and exception."""

    namespace: dict = field(repr=False)
    stdout: str
    error: BaseException | None

    @property
    def ok(self) -> bool:
        return self.error is None


def describe(error: BaseException | None) -> str:
    """``"TypeName: message"``, or ``"no exception"``."""
    return "no exception" if error is None else f"{type(error).__name__}: {error}"


def run_code(source: str, namespace: dict | None = None) -> RunResult:
    """Execute ``source`` in ``namespace`` (a fresh one by default), capturing its
    printed output; an exception is caught and returned, not raised."""
    ns = {"__name__": "__seed__"} if namespace is None else namespace
    buf = io.StringIO()
    error = None
    with contextlib.redirect_stdout(buf):
        try:
            exec(compile(source, "<seed>", "exec"), ns)
        except Exception as exc:  # the point is to report whatever the seed's code raises
            error = exc
    return RunResult(ns, buf.getvalue(), error)


def undefined_names(source: str) -> list[str]:
    """Names ``source`` reads but never binds (by assignment, import, def, class,
    loop, ``with``, argument or comprehension) and that are not builtins, sorted.

    A module-level approximation of what a linter reports as undefined; enough to
    show that a snippet needs variables it never creates.
    """
    tree = ast.parse(source)
    bound: set[str] = set(dir(builtins))
    loaded: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, ast.Store | ast.Del) else loaded).add(node.id)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return sorted(loaded - bound)


@contextlib.contextmanager
def offline_mnist(images: np.ndarray, labels: np.ndarray) -> Iterator[types.ModuleType]:
    """Lend code that does ``import torchvision`` a stand-in serving local images.

    Inside the block, ``torchvision.datasets.MNIST(root, train, transform, download)``
    returns the pairs ``(image, label)`` of ``images`` (float32, shape ``(n, 28, 28)``,
    values in [0, 1]) as tensors of shape ``(1, 28, 28)`` and ints, whatever the
    arguments; ``torchvision.transforms.ToTensor()`` is accepted and not applied.
    Nothing is downloaded. Any real ``torchvision`` is restored afterwards.
    """
    import torch

    images = np.asarray(images, dtype=np.float32)
    labels = np.asarray(labels)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or len(labels) != len(images):
        raise ValueError(f"images must have shape (n, 28, 28) with n labels; got {images.shape} "
                         f"and {len(labels)} labels")

    class MNIST(torch.utils.data.Dataset):
        def __init__(self, root=None, train=True, transform=None, download=False):
            self.x = torch.from_numpy(images).unsqueeze(1)
            self.y = [int(v) for v in labels]

        def __len__(self):
            return len(self.y)

        def __getitem__(self, i):
            return self.x[i], self.y[i]

    tv = types.ModuleType("torchvision")
    tv.datasets = types.ModuleType("torchvision.datasets")
    tv.transforms = types.ModuleType("torchvision.transforms")
    tv.datasets.MNIST = MNIST
    tv.transforms.ToTensor = lambda: None
    names = ("torchvision", "torchvision.datasets", "torchvision.transforms")
    saved = {n: sys.modules.get(n) for n in names}
    sys.modules.update({"torchvision": tv, "torchvision.datasets": tv.datasets,
                        "torchvision.transforms": tv.transforms})
    try:
        yield tv
    finally:
        for n, mod in saved.items():
            if mod is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = mod


class Ledger:
    """Keeps the verdicts a notebook computes, one per check tag, beside the table's.

    ``show(tag)`` prints the claims a computation is about; ``settle(tag, verdict)``
    records what the computation found and prints it next to the table's verdict;
    ``mismatches()`` and ``unsettled()`` say where the table and the computations part.

    A computed row is either *measured* (the verdict could have come out otherwise) or
    an *identity shown* (the cell displays something true by definition or forced by
    the example, and the verdict rests on that): ``settle(..., identity=True)`` marks
    every row of the tag, ``identity={"002-06"}`` only the rows named.
    ``measured_rows()``, ``identity_rows()`` and ``citation_rows()`` are the three classes.
    """

    def __init__(self, claims: Sequence[Claim]) -> None:
        self.claims = list(claims)
        self.computed: dict[str, str] = {}
        self.identities: set[str] = set()  # ids of rows whose computation shows an identity

    def rows(self, tag: str) -> list[Claim]:
        found = [c for c in self.claims if c.check == tag]
        if not found:
            raise ValueError(f"tag: no claim has the check {tag!r}")
        return found

    def show(self, *tags: str, width: int = 96) -> None:
        """Print each claim with one of ``tags``: id, seed quote, translation, table verdict."""
        for tag in tags:
            for c in self.rows(tag):
                print(f"[{c.id}] check {c.check}, table verdict: {c.verdict.upper()}")
                # CJK characters print twice as wide as Latin ones: wrap them at half the count
                quote_width = width - 8 if c.quote.isascii() else (width - 8) // 2
                print(textwrap.indent(textwrap.fill(c.quote, quote_width), "  seed: "))
                print(textwrap.indent(textwrap.fill(c.translation, width - 8), "        "))

    def cite(self, topic: str, width: int = 96) -> None:
        """Print the ``"citation"`` rows of ``topic`` with their verdict and evidence."""
        if topic not in TOPICS:
            raise ValueError(f"topic must be one of {list(TOPICS)}; got {topic!r}")
        for c in self.claims:
            if c.check == CITATION and c.topic == topic:
                print(f"[{c.id}] {c.verdict.upper()}: " + textwrap.shorten(c.translation, width - 30))
                print(textwrap.fill(c.evidence, width, initial_indent="    ",
                                    subsequent_indent="    "))

    def settle(self, tag: str, verdict: str, because: str = "",
               identity: bool | Iterable[str] = False) -> None:
        """Record the computed ``verdict`` for every row tagged ``tag`` and print it.

        ``identity``: ``True`` if the cell shows an identity rather than measuring (every
        row of the tag), or the ids of the rows for which it does."""
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {list(VERDICTS)}; got {verdict!r}")
        if tag == CITATION:
            raise ValueError("tag: 'citation' rows are settled by references, not computed")
        rows = self.rows(tag)
        ids_here = {c.id for c in rows}
        if isinstance(identity, bool):
            shown = ids_here if identity else set()
        else:
            shown = set(identity)
            if not shown <= ids_here:
                raise ValueError(f"identity: {sorted(shown - ids_here)} are not rows of {tag!r}")
        self.computed[tag] = verdict
        self.identities = (self.identities - ids_here) | shown
        table = sorted({c.verdict for c in rows})
        agree = table == [verdict]
        ids = ", ".join(c.id + (" (identity shown)" if c.id in shown else "") for c in rows)
        print(f"{tag} [{ids}]: computed {verdict.upper()}; table {' / '.join(table).upper()}"
              f" -> {'agree' if agree else 'DISAGREE'}")
        if because:
            print(textwrap.fill(because, 96, initial_indent="  because ", subsequent_indent="    "))

    def tags(self) -> list[str]:
        """The check tags of the table other than ``"citation"``, sorted."""
        return sorted({c.check for c in self.claims} - {CITATION})

    def mismatches(self) -> list[tuple[Claim, str]]:
        """Rows whose table verdict differs from the computed one."""
        return [(c, self.computed[c.check]) for c in self.claims
                if c.check in self.computed and c.verdict != self.computed[c.check]]

    def unsettled(self) -> list[str]:
        """Tags in the table that no computation has settled."""
        return [t for t in self.tags() if t not in self.computed]

    def citation_rows(self) -> list[Claim]:
        """Rows settled by references only."""
        return [c for c in self.claims if c.check == CITATION]

    def identity_rows(self) -> list[Claim]:
        """Computed rows whose cell shows an identity: the verdict could not come out otherwise."""
        return [c for c in self.claims if c.check in self.computed and c.id in self.identities]

    def measured_rows(self) -> list[Claim]:
        """Computed rows whose verdict a measurement could have turned."""
        return [c for c in self.claims if c.check in self.computed and c.id not in self.identities]


# ----------------------------------------------------------------------------- installed defaults


def installed_file(package: str, *parts: str) -> pathlib.Path:
    """The file ``parts`` inside the installed top-level ``package``, found without importing it.

    ``installed_file("sklearn", "neural_network", "_multilayer_perceptron.py")`` is the source of
    scikit-learn's ``MLPClassifier``. Raises ``ValueError`` if the package or the file is missing.
    """
    if not isinstance(package, str) or not package.isidentifier():
        raise ValueError(f"package must be the name of a top-level package; got {package!r}")
    spec = importlib.util.find_spec(package)  # for a top-level name this imports nothing
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        path = pathlib.Path(location, *parts)
        if path.is_file():
            return path
    raise ValueError(f"package must be installed with the file {'/'.join(parts)}; "
                     f"found no such file for {package!r}")


def source_default(path: str | pathlib.Path, class_name: str, parameter: str) -> object:
    """The default of ``parameter`` in ``class_name.__init__`` as written in the source file ``path``.

    Read with :mod:`ast`, without importing the module (importing scikit-learn takes most of a
    second); the default must be a literal (a number, string, tuple, None, ...). It is what
    ``inspect.signature(class_name).parameters[parameter].default`` gives when the class defines
    its own ``__init__`` (tested for scikit-learn's ``MLPClassifier``). ``ValueError`` if the
    class, its ``__init__`` or the parameter is not there.
    """
    tree = ast.parse(pathlib.Path(path).read_text(encoding="utf-8"))
    cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name), None)
    init = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None) \
        if cls is not None else None
    if init is None:
        raise ValueError(f"class_name must name a class with its own __init__ in {path}; got {class_name!r}")
    args = init.args
    positional = args.posonlyargs + args.args
    pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults, strict=True))
    pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None]
    for arg, default in pairs:
        if arg.arg == parameter:
            return ast.literal_eval(default)
    raise ValueError(f"parameter must be a parameter of {class_name}.__init__ with a default; "
                     f"got {parameter!r}")
