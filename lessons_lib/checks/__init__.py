"""Self-checks for the exercises: specific feedback, never a bare pass or fail.

A check prints a one-line confirmation when the answer is right and raises
:class:`NotYet` otherwise, with a message saying what is wrong and a hint.
Common wrong answers are recognised and named (for example the stability limit
given where the optimal step was asked).

One module per lesson holds that lesson's checks, e.g.
:mod:`lessons_lib.checks.gradient_descent`.
"""

from __future__ import annotations

import contextlib
import decimal
import numbers
import re
import sys
import types
from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar

import numpy as np

T = TypeVar("T")


class NotYet(AssertionError):
    """An exercise answer that is not right yet; the message says why and gives a hint.

    In a notebook, IPython shows an exception through its ``_render_traceback_`` when it has
    one: this shows the message alone, "Not yet: ..." and the hint on its own line. A
    traceback would print the check's source, and with it the expected value.
    """

    def _render_traceback_(self) -> list[str]:
        message = str(self)
        what, sep, hint = message.partition(" Hint: ")
        lines = [f"\x1b[1;31mNot yet:\x1b[0m {what}"]
        if sep:
            lines.append(f"\x1b[1mHint:\x1b[0m {hint}")
        return lines


class UsesReference(Exception):  # noqa: N818 - not an error of the check: what the student's code did
    """Raised by a library function that an exercise asks the student not to call, while the check
    runs the student's function inside :func:`forbidden`; its message names the function."""


@contextlib.contextmanager
def forbidden(module: types.ModuleType, names: tuple[str, ...] | None = None) -> Iterator[None]:
    """While the block runs, every public function and class defined in ``module`` (or only those
    in ``names``) raises :class:`UsesReference` when called (looked up as ``module.name``, as a
    student's code calls it); they are put back afterwards. A name imported from the module
    beforehand (``from module import f``) is not caught."""
    short = module.__name__.rsplit(".", 1)[-1]
    saved = {name: value for name, value in vars(module).items() if not name.startswith("_")
             and callable(value) and getattr(value, "__module__", None) == module.__name__
             and (names is None or name in names)}
    if names is not None and set(names) - set(saved):
        unknown = sorted(set(names) - set(saved))
        raise ValueError(f"names: public functions of {module.__name__}; got {unknown}")

    def blocker(name: str) -> Callable[..., object]:
        def blocked(*args: object, **kwargs: object) -> object:
            raise UsesReference(f"{short}.{name}")
        return blocked

    try:
        for name in saved:
            setattr(module, name, blocker(name))
        yield
    finally:
        for name, value in saved.items():
            setattr(module, name, value)


def not_written(name: str, hint: str = "") -> NotYet:
    """The message for a function that is still a student copy's stub (nbgrader's ``raise
    NotImplementedError()``): "Not yet: <name> is not written yet", shown without a traceback, whose
    lines would show the check's source; like any :class:`NotYet` it stops Run All there."""
    tail = f" Hint: {hint}" if hint else ""
    return NotYet(f"{name} is not written yet: replace the stub's `raise NotImplementedError()` with your "
                  f"code.{tail}")


def _text(error: BaseException) -> str:
    """``str(error)``, or a placeholder when even that fails (an exception class of the student's)."""
    try:
        return str(error)
    except Exception:  # noqa: BLE001
        return "(its message cannot be shown)"


def run_answer(function: Callable[..., T], *args: object, name: str, hint: str = "", where: str = "",
               forbid: types.ModuleType | None = None, forbid_names: tuple[str, ...] | None = None,
               quiet: bool = False,
               crashed: str | Callable[[Exception], str] | None = None,
               passthrough: tuple[type[BaseException], ...] = ()) -> T:
    """``function(*args)``, the student's function ``name`` run on one case: what it returns, or a
    :class:`NotYet` saying what went wrong, never a traceback (whose lines would show the check's
    source and with it the expected values).

    * The stub of a student copy (nbgrader's ``raise NotImplementedError()``, without a message):
      :func:`not_written`. A ``NotImplementedError`` with a message (PyTorch raises them for
      unsupported operations) is a crash like any other.
    * With ``forbid``, a call to one of that module's functions (or of those in ``forbid_names``)
      while it runs (see :func:`forbidden`): "<name> calls <module.function>: the exercise asks you
      to write it yourself".
    * Any other exception (``SystemExit`` and ``GeneratorExit`` included, not ``KeyboardInterrupt``):
      "<where><name> raised <Type>: <message>." and the hint; or ``crashed``, a message in which
      ``{type}`` and ``{error}`` stand for the exception's type and message, or a function of the
      exception that returns the message.
    * A :class:`NotYet` raised inside (a check the student's code calls) and the exception types in
      ``passthrough`` (the check's own signals) go through unchanged.

    ``quiet`` runs it under ``np.errstate(all="ignore")``: an overflow is judged by the result.
    """
    if forbid_names is not None and forbid is None:
        raise ValueError("forbid_names: give forbid, the module they belong to")
    tail = f" Hint: {hint}" if hint else ""
    with contextlib.ExitStack() as stack:  # outside the try: the check's own mistake is not the student's
        if quiet:
            stack.enter_context(np.errstate(all="ignore"))
        if forbid is not None:
            stack.enter_context(forbidden(forbid, forbid_names))
        try:
            return function(*args)
        except NotYet:
            raise
        except passthrough:
            raise
        except UsesReference as used:
            raise NotYet(f"{name} calls {used}: the exercise asks you to write it yourself, without calling "
                         f"{used}.{tail}") from None
        except (Exception, SystemExit, GeneratorExit) as error:  # noqa: BLE001 - any slip becomes a message
            if isinstance(error, NotImplementedError) and not error.args:  # a student copy's stub
                raise not_written(name, hint) from None
            default = f"{where}{name} raised {type(error).__name__}: {_text(error)}.{tail}"
            if crashed is None:
                message = default
            elif isinstance(crashed, str):
                message = crashed.replace("{type}", type(error).__name__).replace("{error}", _text(error))
            else:
                try:
                    message = crashed(error)
                except Exception:  # noqa: BLE001 - e.g. an exception whose message cannot be shown
                    message = default
            raise NotYet(message) from None


def _unanswered(shell: object, etype: type, value: BaseException, tb: object,
                tb_offset: int | None = None) -> list[str]:
    """IPython's handler for a NameError (installed by :func:`explain_unanswered`; IPython leaves the
    display of such an error to the handler). A check cell whose own line ``checks.<lesson>.<check>(...)``
    passes a name that is not defined (an answer not assigned yet: a student copy's stub stops the
    answer cell before it does; or a cell above not run) gets a "Not yet" message; any other
    NameError, one raised inside a function included, IPython's own traceback."""
    cell = (shell.user_ns.get("_ih") or [""])[-1]  # the running cell's source (stored before it runs)
    name = getattr(value, "name", None)
    first = cell.lstrip().splitlines()[0] if cell.strip() else ""
    innermost = tb
    while innermost is not None and innermost.tb_next is not None:
        innermost = innermost.tb_next
    in_cell = innermost is not None and innermost.tb_frame.f_code.co_name == "<module>"
    if in_cell and name and name != "checks" and re.match(r"checks\.\w+\.\w+\(", first) \
            and re.search(rf"\b{re.escape(name)}\b", first.split("(", 1)[1]):
        sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb  # for %tb and %debug
        stb = NotYet(f"{name} is not defined yet: run the cells above this check first; if {name} is your "
                     "answer, write it in the answer cell above and run that cell.")._render_traceback_()
        shell._showtraceback(etype, value, stb)
        return stb
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    return []


def explain_unanswered(shell: object) -> None:
    """Make a check cell's NameError for an answer not yet assigned a "Not yet" message (see
    :func:`_unanswered`) in the IPython shell ``shell`` (called by :func:`lessons_lib.setup`)."""
    shell.set_custom_exc((NameError,), _unanswered)


def _plain(answer: object) -> object:
    """A torch tensor as a NumPy array (detached; bfloat16 as float32); an exact number (``Fraction``,
    ``Decimal``, a SymPy number) as a float; anything else unchanged."""
    if hasattr(answer, "detach") and hasattr(answer, "numpy"):
        try:
            tensor = answer.detach().cpu()
            if str(tensor.dtype) == "torch.bfloat16":  # no bfloat16 in NumPy: its values, exactly, in float32
                tensor = tensor.float()
            return tensor.numpy()
        except Exception as error:  # noqa: BLE001 - a sparse, conjugated or float8 tensor and the like
            raise NotYet(f"the answer is a tensor that cannot be read as numbers ({type(error).__name__}: "
                         f"{_text(error)}). Hint: return what the exercise asks for, made of ordinary "
                         "numbers: a dense tensor, not a sparse, conjugated or float8 one.") from None
    if isinstance(answer, list | tuple):
        return [_plain(a) for a in answer]
    exact = isinstance(answer, numbers.Rational | decimal.Decimal) and not isinstance(answer, bool | int)
    if exact or type(answer).__module__.split(".")[0] == "sympy":
        try:
            return float(answer)
        except (TypeError, ValueError, OverflowError):
            return answer  # e.g. a SymPy symbol: not a number, said below
    return answer


def _numeric_kind(answer: object, what: str, tail: str) -> None:
    """NotYet for text, booleans and complex numbers, in any container."""
    if isinstance(answer, str | bytes):
        raise NotYet(f"{what} should be a number, not the text {answer!r}: remove the quotes.{tail}")
    try:
        kind = np.asarray(answer).dtype.kind
    except (TypeError, ValueError):  # ragged lists and the like
        raise NotYet(f"{what} should be made of numbers; got {type(answer).__name__}.{tail}") from None
    if kind in "USO":
        raise NotYet(f"{what} should be made of numbers, not text or objects; got {answer!r}.{tail}")
    if kind == "b":
        raise NotYet(f"{what} should be a number, not a boolean ({answer!r}).{tail}")
    if kind == "c":
        raise NotYet(f"{what} should be real; got {answer!r} (a modulus or a rate is abs(z)).{tail}")


def as_number(answer: object, what: str, hint: str = "") -> float:
    """The answer as a finite float, or :class:`NotYet` saying why it is not one.

    ``None`` and ``...`` mean "no answer yet"; text such as ``'0.5'``, booleans, complex
    numbers and arrays of more than one number are not a number (a student who typed quotes
    should be told, not silently accepted). NumPy scalars and one-element tensors are.
    """
    tail = f" Hint: {hint}" if hint else ""
    if answer is None or answer is Ellipsis:
        raise NotYet(f"No answer yet for {what}.{tail}")
    answer = _plain(answer)
    _numeric_kind(answer, what, tail)
    if np.ndim(answer) != 0 and np.size(answer) != 1:
        raise NotYet(f"{what} should be a single number; got {np.size(answer)} of them.{tail}")
    try:
        value = float(np.asarray(answer).reshape(()))
    except (TypeError, ValueError, OverflowError):
        raise NotYet(f"{what} should be a single number; got {type(answer).__name__}.{tail}") from None
    if not np.isfinite(value):
        raise NotYet(f"{what} should be finite; got {value}.{tail}")
    return value


def _fmt(x: object) -> str:
    arr = np.asarray(x, dtype=float)
    return np.array2string(arr, precision=6) if arr.ndim else f"{float(arr):.6g}"


def passed(message: str) -> None:
    """Print the confirmation for a correct answer."""
    print(f"Correct: {message}")


def number(
    answer: object,
    expected: float,
    *,
    what: str,
    hint: str,
    rtol: float = 1e-6,
    mistakes: Mapping[str, tuple[float, str]] | None = None,
) -> None:
    """Check a numeric answer.

    Parameters
    ----------
    answer : the student's value.
    expected : the right value.
    what : what the value is, for the messages ("the optimal step size").
    hint : how to get there, shown when the answer is wrong.
    rtol : relative tolerance.
    mistakes : named wrong answers, ``{name: (value, explanation)}``: an answer
        close to ``value`` gets ``explanation`` instead of the generic message.
    """
    value = as_number(answer, what, hint)
    if np.isclose(value, expected, rtol=rtol, atol=0.0):
        passed(f"{what} = {_fmt(expected)}.")
        return
    for wrong, explanation in (mistakes or {}).values():
        if np.isclose(value, wrong, rtol=max(rtol, 1e-9), atol=0.0):
            raise NotYet(f"{_fmt(value)} is not {what}: {explanation} Hint: {hint}")
    side = "too large" if value > expected else "too small"
    raise NotYet(f"{_fmt(value)} is {side} for {what}. Hint: {hint}")


def array(answer: object, what: str, shape: tuple[int, ...], shape_hint: str = "",
          hint: str = "") -> np.ndarray:
    """A numeric array answer of the given shape, or :class:`NotYet` saying what is off with it."""
    if answer is None or answer is Ellipsis:
        raise NotYet(f"No answer yet for {what}." + (f" Hint: {hint}" if hint else ""))
    answer = _plain(answer)
    if isinstance(answer, str | bytes):
        raise NotYet(f"{what} should be an array of real numbers, not the text {answer!r}.")
    try:
        kind = np.asarray(answer).dtype.kind
    except (TypeError, ValueError):
        raise NotYet(f"{what} should be an array of numbers; got a ragged {type(answer).__name__}.") from None
    if kind in "USObc":
        raise NotYet(f"{what} should be an array of real numbers; got {answer!r}.")
    try:
        arr = np.asarray(answer, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise NotYet(f"{what} should be an array of numbers; got {type(answer).__name__}.") from None
    if arr.shape != shape:
        raise NotYet(f"{what} should have shape {shape}; got shape {arr.shape}. {shape_hint}".rstrip())
    if not np.all(np.isfinite(arr)):
        raise NotYet(f"{what} should be finite; got {arr}.")
    return arr


def vector(
    answer: object,
    expected: np.ndarray,
    *,
    what: str,
    hint: str,
    mistakes: Mapping[str, tuple[np.ndarray, str]] | None = None,
    atol: float = 1e-9,
    shape_hint: str = "",
) -> None:
    """Check an array answer against ``expected`` (absolute tolerance ``atol``), like :func:`number`:
    named wrong answers ``{name: (array, explanation)}`` get their explanation."""
    expected = np.asarray(expected, dtype=float)
    value = array(answer, what, expected.shape, shape_hint, hint)
    if np.allclose(value, expected, rtol=0.0, atol=atol):
        passed(f"{what} = {np.array2string(expected, precision=9)}.")
        return
    for wrong, explanation in (mistakes or {}).values():
        if np.allclose(value, wrong, rtol=0.0, atol=max(atol, 1e-12)):
            raise NotYet(f"{np.array2string(value, precision=9)} is not {what}: {explanation} Hint: {hint}")
    raise NotYet(f"{np.array2string(value, precision=9)} is not {what}. Hint: {hint}")


def function(
    candidate: Callable[..., object],
    reference: Callable[..., object],
    cases: list[tuple],
    *,
    what: str,
    hint: str,
    rtol: float = 1e-9,
) -> None:
    """Check a student's function against a reference on a list of argument tuples."""
    if not callable(candidate):
        raise NotYet(f"{what} should be a function; got {type(candidate).__name__}.")
    for args in cases:
        got = _plain(run_answer(candidate, *args, name=what, hint=hint, crashed=f"{what} raised {{type}}: "
                                f"{{error}} for the inputs {_fmt_args(args)}. Hint: {hint}"))
        want = reference(*args)
        _numeric_kind(got, f"what {what} returns for the inputs {_fmt_args(args)}", f" Hint: {hint}")
        try:
            got_arr = np.asarray(got, dtype=float)
        except (TypeError, ValueError, OverflowError):
            raise NotYet(f"{what} should return numbers; got {type(got).__name__}. Hint: {hint}") from None
        want_arr = np.asarray(want, dtype=float)
        if got_arr.shape != want_arr.shape:
            raise NotYet(
                f"{what} returned shape {got_arr.shape} for the inputs {args!r}; "
                f"expected shape {want_arr.shape}. Hint: {hint}"
            )
        if not np.allclose(got_arr, want_arr, rtol=rtol, atol=1e-12):
            raise NotYet(
                f"{what} gives {_fmt(got_arr)} for the inputs {_fmt_args(args)}; "
                f"expected {_fmt(want_arr)}. Hint: {hint}"
            )
    passed(f"{what} agrees with the reference on {len(cases)} cases.")


def _fmt_args(args: tuple) -> str:
    return "(" + ", ".join(_fmt(a) if not callable(a) else getattr(a, "__name__", "f")
                           for a in args) + ")"


def __getattr__(name: str):
    """Load a lesson's module on first use: ``checks.gradient_descent``, ``checks.momentum``, ..."""
    import importlib

    if name.startswith("_"):
        raise AttributeError(name)
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError:
        raise AttributeError(f"lessons_lib.checks has no lesson module {name!r}") from None
