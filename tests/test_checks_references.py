"""What notebooks/README.md's "What the checks cannot stop" says about answers that call the library.

Where the library computes an implement exercise's answer in one call, the check refuses an answer that
makes the call through the module while the student's function runs (checks.run_answer's ``forbid``),
and puts the module back afterwards. A reference imported by name beforehand is not caught: it passes in
lessons 07, 10, 12 and 13, and is refused anyway in 03, 06 and 09, whose references call their module's
other functions through the module. Lesson 05's answer can run torch.optim.SGD itself, the check's own
reference; lesson 10's can use MaskedSGD through `training` (the same class) or torch.optim.SGD with the
mask applied by hand. Each sentence of that paragraph is a test here.
"""

from __future__ import annotations

import copy
import sys

import numpy as np
import pytest
import torch
from check_tables import fails, passes

from lessons_lib import (
    checks,
    conventions,
    folding,
    pruning,
    quantization,
    smooth_convex,
    theory,
    trained_sharing,
)

# by name, before any check runs: what `from lessons_lib.<module> import <name>` gives a student
BY_NAME = {
    "theory": theory.momentum_rate,
    "smooth_convex": smooth_convex.nesterov_convex,
    "conventions": conventions.sutskever,
    "quantization": quantization.quantize,
    "pruning": pruning.masked_momentum_step,
    "folding": folding.fold_batchnorm,
    "trained_sharing": trained_sharing.centroid_gradient,
}


def lesson03(ref):
    return checks.momentum.rate_function, lambda lr, beta, lam: ref(lr, beta, lam)


def lesson06(ref):
    return checks.beyond_quadratics.fista_iterates, lambda grad, x0, L, steps: ref(grad, x0, L, steps,
                                                                                     sequence="fista")


def lesson07(ref):
    return checks.momentum_in_practice.sutskever_update, lambda grad, x0, lrs, beta: ref(
        grad, x0, np.asarray(lrs), beta, len(lrs))


def lesson09(ref):
    return checks.quantization.affine_per_channel, lambda x, bits: ref(x, bits, symmetric=False, axis=0)


def lesson10(ref):
    return checks.pruning.nesterov_step, lambda param, grad, buf, mask, lr, momentum, wd: ref(
        param, grad, buf, mask, lr, momentum, wd, nesterov=True)


def lesson12(ref):
    return checks.integer_inference.fold_linear_bn, lambda linear, bn: ref(copy.deepcopy(linear),
                                                                           copy.deepcopy(bn))


def lesson13(ref):
    return checks.quantization_practice.centroid_grad, lambda weight_grad, index, k: ref(
        weight_grad, index, torch.ones_like(index, dtype=torch.bool), k)


# (lesson, module, how the check is called with an answer built on a reference, the function the message
# names when the reference is called through the module, what the reference imported by name gives)
ROWS = [
    ("03", "theory", lesson03, "theory.momentum_rate", "calls theory.spectral_radius_2x2"),
    ("06", "smooth_convex", lesson06, "smooth_convex.nesterov_convex",
     "calls smooth_convex.momentum_sequence"),
    ("07", "conventions", lesson07, "conventions.sutskever", None),
    ("09", "quantization", lesson09, "quantization.quantize", "calls quantization.code_range"),
    ("10", "pruning", lesson10, "pruning.masked_momentum_step", None),
    ("12", "folding", lesson12, "folding.fold_batchnorm", None),
    ("13", "trained_sharing", lesson13, "trained_sharing.centroid_gradient", None),
]
MODULES = {name: sys.modules[function.__module__] for name, function in BY_NAME.items()}


@pytest.mark.parametrize(("lesson", "module", "build", "named", "by_name"), ROWS, ids=[r[0] for r in ROWS])
def test_a_call_through_the_module_is_refused_and_the_module_put_back(lesson, module, build, named, by_name):
    mod = MODULES[module]
    name = named.split(".")[1]
    check, answer = build(lambda *args, **kwargs: getattr(mod, name)(*args, **kwargs))
    assert f"calls {named}:" in fails(check, answer)
    assert getattr(mod, name) is BY_NAME[module]  # put back
    assert all(getattr(value, "__module__", None) != "lessons_lib.checks" for value in vars(mod).values())


@pytest.mark.parametrize(("lesson", "module", "build", "named", "by_name"), ROWS, ids=[r[0] for r in ROWS])
def test_a_reference_imported_by_name_is_what_the_guide_says(lesson, module, build, named, by_name, capsys):
    check, answer = build(BY_NAME[module])
    if by_name is None:
        passes(check, answer, capsys=capsys)  # the documented limit
    else:
        assert by_name in fails(check, answer)


def test_lesson_05_can_be_answered_by_torch_optim_sgd_itself(capsys):
    """The guide says so: the check's reference is torch.optim.SGD, which an answer can run."""
    def nesterov_wd(grad, x0, lr, beta, wd, steps):
        p = torch.tensor(np.asarray(x0, dtype=float), requires_grad=True)
        opt = torch.optim.SGD([p], lr=lr, momentum=beta, nesterov=True, weight_decay=wd)
        path = [p.detach().numpy().copy()]
        for _ in range(steps):
            p.grad = torch.tensor(np.asarray(grad(p.detach().numpy()), dtype=float))
            opt.step()
            path.append(p.detach().numpy().copy())
        return np.array(path)

    passes(checks.nesterov.weight_decay_step, nesterov_wd, capsys=capsys)


def _masked_sgd_step(optimizer_class, param, grad, buf, mask, lr, momentum, wd):
    """One step of a MaskedSGD (the class, found under another module) on NumPy arrays."""
    module = torch.nn.Module()
    module.w = torch.nn.Parameter(torch.tensor(param, dtype=torch.float64))
    opt = optimizer_class(module, {"w": torch.tensor(mask)}, lr=lr, momentum=momentum, weight_decay=wd,
                          nesterov=True)
    if buf is not None:
        opt.state[module.w]["momentum_buffer"] = torch.tensor(buf, dtype=torch.float64)
    module.w.grad = torch.tensor(grad, dtype=torch.float64)
    opt.step()
    return module.w.detach().numpy().copy(), opt.state[module.w]["momentum_buffer"].numpy().copy()


def test_lesson_10_can_be_answered_through_masked_sgd_under_another_module_or_torch_optim_sgd(capsys):
    """The guide says so: `training` imports pruning's MaskedSGD (the same class, not blocked there),
    and torch.optim.SGD with the mask applied by hand computes the same step."""
    from lessons_lib import training

    def via_training(param, grad, buf, mask, lr, momentum, wd):
        return _masked_sgd_step(training.MaskedSGD, param, grad, buf, mask, lr, momentum, wd)

    def via_torch(param, grad, buf, mask, lr, momentum, wd):
        p = torch.tensor(param, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.SGD([p], lr=lr, momentum=momentum, weight_decay=wd, nesterov=True)
        keep = torch.tensor(mask)
        if buf is not None:
            opt.state[p]["momentum_buffer"] = torch.tensor(buf, dtype=torch.float64)
        p.grad = torch.tensor(grad, dtype=torch.float64) * keep
        with torch.no_grad():
            p.mul_(keep)
        opt.step()
        return (p.detach() * keep).numpy(), (opt.state[p]["momentum_buffer"] * keep).numpy()

    assert training.MaskedSGD is pruning.MaskedSGD
    passes(checks.pruning.nesterov_step, via_training, capsys=capsys)
    passes(checks.pruning.nesterov_step, via_torch, capsys=capsys)


def test_run_answer_reports_what_the_students_code_did():
    """The stub, a crash (the template, a message that cannot be shown, SystemExit), a NotYet from
    inside and the passthrough types go through, quiet, and a forbid_names without its module."""
    def stub():
        raise NotImplementedError()

    def torch_lacks():
        raise NotImplementedError("aten::x not implemented")

    class Unprintable(Exception):
        def __str__(self):
            raise RuntimeError("no")

    def unprintable():
        raise Unprintable()

    def exits():
        raise SystemExit(2)

    def inner():
        raise checks.NotYet("from inside")

    class Signal(Exception):
        pass

    def signal():
        raise Signal()

    def brace():
        raise ValueError("a {type} and {x}")

    run = checks.run_answer
    with pytest.raises(checks.NotYet, match="^f is not written yet"):
        run(stub, name="f")
    with pytest.raises(checks.NotYet, match="^at x f raised NotImplementedError: aten::x not implemented. "
                       "Hint: h$"):
        run(torch_lacks, name="f", hint="h", where="at x ")
    with pytest.raises(checks.NotYet, match=r"raised Unprintable: \(its message cannot be shown\)"):
        run(unprintable, name="f")
    with pytest.raises(checks.NotYet, match="raised SystemExit: 2"):
        run(exits, name="f")
    with pytest.raises(checks.NotYet, match="^from inside$"):
        run(inner, name="f")
    with pytest.raises(Signal):
        run(signal, name="f", passthrough=(Signal,))
    with pytest.raises(checks.NotYet, match=r"^f: ValueError, a \{type\} and \{x\}!$"):
        run(brace, name="f", crashed="f: {type}, {error}!")
    with pytest.raises(checks.NotYet, match="^fallback f raised Unprintable"):
        run(unprintable, name="f", where="fallback ", crashed=lambda error: f"custom {error}")
    with np.errstate(all="raise"):
        assert run(lambda: np.float64(1.0) / 0.0, name="f", quiet=True) == np.inf
    with pytest.raises(ValueError, match="forbid_names"):
        run(stub, name="f", forbid_names=("quantize",))
    with pytest.raises(ValueError, match="names: public functions"):
        run(stub, name="f", forbid=quantization, forbid_names=("no_such_function",))
    assert run(lambda a, b: a + b, 2, 3, name="f") == 5
