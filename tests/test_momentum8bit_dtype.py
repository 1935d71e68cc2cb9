"""SGD8bitMomentum computes in the parameters' dtype, as torch.optim.SGD does: a run differs from
torch.optim.SGD's only by the rounding of the buffer carried between steps (lesson 13, section 5)."""

from __future__ import annotations

import pytest
import torch

from lessons_lib.momentum8bit import SGD8bitMomentum, dequantize_blockwise, quantize_blockwise


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("nesterov", [False, True])
def test_first_step_identical_second_differs_by_the_rounding(dtype, nesterov):
    gen = torch.Generator().manual_seed(0)
    x0 = torch.randn(700, generator=gen, dtype=dtype)
    A = torch.randn(700, 700, generator=gen, dtype=dtype) / 30
    lr, beta = 0.05, 0.9
    params = {}
    grads = []
    for cls in (torch.optim.SGD, SGD8bitMomentum):
        p = torch.nn.Parameter(x0.clone())
        opt = cls([p], lr=lr, momentum=beta, nesterov=nesterov)
        states = []
        for _ in range(2):
            opt.zero_grad()
            (0.5 * (A @ p).square().sum()).backward()
            if cls is torch.optim.SGD:
                grads.append(p.grad.clone())
            opt.step()
            states.append(p.detach().clone())
        params[cls] = states
    first_sgd, second_sgd = params[torch.optim.SGD]
    first_8, second_8 = params[SGD8bitMomentum]
    assert first_8.dtype == dtype
    assert torch.equal(first_sgd, first_8)
    g1 = grads[0]
    rounded = dequantize_blockwise(*quantize_blockwise(g1), g1.shape).to(dtype)
    # plain: p2 = p1 - lr (beta b1 + g2); Nesterov: p2 = p1 - lr (g2 + beta (beta b1 + g2))
    factor = lr * beta * (beta if nesterov else 1.0)
    predicted = factor * (rounded - g1)
    tol = 1e-14 if dtype == torch.float64 else 1e-6
    assert predicted.abs().max() > 100 * tol
    torch.testing.assert_close(second_sgd - second_8, predicted, rtol=0, atol=tol)
