# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: -slideshow
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Start here: gradient descent, momentum and compressing neural networks
#
# Welcome. This course is a sequence of notebooks that teach, by computing and by
# looking, how gradient descent moves, why momentum makes it faster, what Nesterov's
# look-ahead changes, and how the same optimizers behave when a network's weights
# are quantized or pruned.
#
# ## Learning goals
#
# After this notebook you can
#
# * find your way through the lessons and know what each one teaches;
# * run a notebook, drag a slider and read an exercise's feedback;
# * confirm that this browser and kernel run the interactive parts.
#
# ## Prerequisites
#
# This course assumes Python and NumPy at the level of slicing arrays and writing a
# function, and calculus at the level of a derivative and a gradient. Linear algebra
# enters through eigenvalues of a symmetric $2\times 2$ matrix; lesson 01 recalls
# what is needed. About 10 minutes.

# %% [markdown]
# ## The lessons
#
# | # | notebook | what you learn |
# |---|---|---|
# | 00 | `00_start_here` | this page: the map, the controls, a check of the widgets |
# | 01 | `01_gradient_descent` | the step-size limit $0<\eta\lambda<2$, the condition number $\kappa$, the optimal step $2/(\mu+L)$ and its rate, the eigenbasis view, zig-zag |
# | 02 | `02_stochastic_gradient_descent` | noisy gradients, minibatches, why a constant step does not settle, decaying steps, averaging, batch size |
# | 03 | `03_momentum` | why momentum works: the heavy ball as a damped oscillator, the leaky average, the effective learning rate and its limits, the $2\times2$ matrix, the convergence region, critical damping |
# | 04 | `04_momentum_rates` | the rate $\sqrt\beta$, Polyak's optimal pair and $\sqrt\kappa$, the rate map, many eigenvalues and early stopping, why no gradient method can do better on quadratics |
# | 05 | `05_nesterov` | the look-ahead gradient, PyTorch's form, Nesterov's rate map beside the heavy ball's, where each is faster |
# | 06 | `06_beyond_quadratics` | the descent lemma, $O(1/k)$ against Nesterov's $O(1/k^2)$ on a convex problem, valleys that are not quadratic |
# | 07 | `07_momentum_in_practice` | how PyTorch, Keras and Adam write momentum and how to convert between them; when momentum helps stochastic gradient descent |
# | 08 | `08_linear_regression_worked_example` | a worked example by hand, with the seed article's arithmetic corrected |
# | 09 | `09_weight_quantization` | affine and symmetric quantization, quantization-aware training with momentum |
# | 10 | `10_weight_pruning` | magnitude pruning, and the momentum buffer that brings pruned weights back |
# | 11 | `11_compression_pipeline` | prune, quantize, store: the size of a file that loads back |
# | 12 | `12_integer_inference` | a network that runs in integers: observers, requantization, BatchNorm folding, measured speed |
# | 13 | `13_quantization_in_practice` | trained codebooks, 4-bit weights in groups packed two to a byte, torchao, the production route, tried on this CPU, and the momentum buffer in 8 bits |
# | 14 | `14_claims_checked` | the seed articles' claims, tested one by one |
#
# Open them from the file browser on the left, from the folder this notebook is in (on Binder,
# `students/`); a copy your instructor hands out, or one downloaded from the website, comes one
# lesson at a time. The instructor's guide, `notebooks/README.md`, gives the time each one takes.
#
# Each lesson opens with its goals and prerequisites and closes with a summary and
# exercises. A formula is followed by a cell that checks it with numbers; where a lesson
# states a result it does not measure itself, it says so and cites where it is proved.

# %% [markdown]
# ## Notation
#
# One symbol for one quantity across the course. A few letters have a second meaning inside
# one lesson ($M$ in lessons 10 to 12, the oscillator's $t$, $h$, $a$, $r$ in lesson 03); the table
# names the lesson, and a lesson that needs a letter only in one section defines it there. The
# seed articles and PyTorch use other names; the lessons quote them as they are and say which
# symbol they mean.
#
# | symbol | meaning | elsewhere |
# |---|---|---|
# | $\eta$ | the learning rate (step size); $\eta_k$ when it changes with the step | PyTorch's `lr` |
# | $\beta$ | the momentum coefficient | PyTorch's `momentum`; $\gamma$ or $\mu$ in some seeds and papers |
# | $k$ | the step number, from 0 | |
# | $g_k$ | the gradient at step $k$, $\nabla f(x_k)$ (or a minibatch's estimate of it, lesson 02); lesson 08 writes $g_k$ for the gradient used in iteration $k$, at $\theta^{(k-1)}$ | |
# | $m$ | the number of samples (data rows) of a loss that is a sum over samples | |
# | $x_k$, $\theta^{(k)}$ | the parameters after $k$ steps ($\theta$ for a model's parameters; in lesson 08, $\theta_0$ and $\theta_1$ are a line's intercept and slope, and $\theta^{(k)}$ the iterate) | |
# | $v_k$ | the velocity of Sutskever's form, $x_{k+1} = x_k + v_{k+1}$ | |
# | $b_k$ | PyTorch's momentum buffer, $x_{k+1} = x_k - \eta\, b_{k+1}$ (for a constant $\eta$, $v_k = -\eta\, b_k$) | PyTorch's `momentum_buffer` |
# | $\tau$ | PyTorch's dampening: $b_{k+1} = \beta b_k + (1-\tau) g_k$ (lesson 07) | PyTorch's `dampening` |
# | $m_k$, $\eta'$ | the moving average of the gradients $m_{k+1} = \beta m_k + (1-\beta) g_k$ and the learning rate of that form (lesson 07) | Adam's first moment |
# | $w$, $w_k$ | a network's weights; in lessons 05 and 07, the iterate PyTorch's (and Bengio et al.'s) Nesterov form stores | PyTorch's parameter `p` |
# | $f$, $f^\star$, $x^\star$ | the loss, its minimum value and where it is reached ($\theta^\star$ for a model's parameters, $\hat\theta$ for a least-squares fit) | |
# | $Z$, $z_i$, $\ell_i$, $\varphi$ | lesson 06's logistic regression: the data matrix, its rows, the labels $\pm1$ and the per-sample loss $\varphi(\zeta) = \log(1 + e^{-\zeta})$ | |
# | $\nabla f$, $H$ | the gradient and the Hessian (the matrix of second derivatives); $A$ for the Hessian of lesson 02's least squares | |
# | $\lambda$, $\lambda_i$ | an eigenvalue of the Hessian | |
# | $u_i$, $\tilde x$ | the Hessian's eigenvectors, and the coordinates of $x - x^\star$ along them ($\tilde x_{k,i}$ after $k$ steps; lessons 01 to 08) | |
# | $M$, $N$ | the heavy ball's and Nesterov's $2\times2$ iteration matrices on one eigen-component (lessons 03 to 05; in lesson 02, $N$ counts the iterates averaged) | |
# | $y_k$ | Nesterov's look-ahead point $x_k + \beta(x_k - x_{k-1})$ (lessons 05 and 06) | |
# | $\sigma_1$, $\sigma_2$ | the two roots (eigenvalues) of that matrix (lessons 03 to 05) | |
# | $\beta_c$ | the critical momentum $(1-\sqrt{\eta\lambda})^2$, where the two roots meet (lessons 03 and 04) | |
# | $t$, $h$, $a$, $r$ | the heavy ball as an oscillator $\ddot x + a\dot x + \nabla f(x) = 0$ (lesson 03): time, the time step ($\eta = h^2$, $\beta = 1 - ah$), the friction, and the roots of $r^2 + ar + \lambda = 0$ | |
# | $\rho_\star$ | the best rate on a quadratic, $(\sqrt\kappa-1)/(\sqrt\kappa+1)$ (lessons 04 and 05) | |
# | $\eta^\star$, $\beta^\star$ | Polyak's optimal pair for the heavy ball (lessons 04 and 05) | |
# | $\beta_\times$ | the crossover momentum above which Nesterov, each at its best step, beats the heavy ball (lesson 05) | |
# | $p_k$, $T_k$ | the residual polynomial of a gradient method after $k$ steps ($p_k(0) = 1$) and the Chebyshev polynomial of degree $k$ (lesson 04) | |
# | $\alpha$, $t_0$ | a decaying step $\eta_k = \alpha/(t_0 + k)$ (lesson 02) | |
# | $\beta_k$, $t_k$ | momentum that changes with the step, and the sequence that sets it in FISTA (lesson 06) | |
# | $\sigma_\xi$ | the standard deviation of the gradient noise (lessons 02, 07 and 08) | |
# | $\mu$, $L$ | the smallest and the largest eigenvalue of the Hessian; $L$ also the smoothness constant of a loss that is not quadratic, $\|\nabla f(x) - \nabla f(x')\| \le L\|x - x'\|$, and $\mu$ the strong-convexity constant, every Hessian eigenvalue $\ge \mu$ (lesson 06) | |
# | $\kappa = L/\mu$ | the condition number | |
# | $\rho$ | the rate: the factor by which the error shrinks per step, in the long run | |
# | $\varepsilon$ | the accuracy asked for (steps to shrink the error by $\varepsilon$) | |
# | $B$ | the minibatch size (lesson 02) | PyTorch's `batch_size` |
# | $n$ | bits per stored number (lessons 09 and 11) | |
# | $s$, $z$, $q$ | a quantizer's scale, zero point and integer code: $\hat w = s\,(q - z)$ (lesson 09) | |
# | $M$ in lessons 10 and 11 | a pruning mask of zeros and ones: the kept weights are $M \odot W$ | |
# | $M$ in lesson 12 | the requantization multiplier $s_w s_x / s_y$: lesson 12 keeps the letter of the paper it follows (Jacob et al., 2018) and says so where it starts | |
# | $p$ | the sparsity: the fraction of weights pruned (lessons 10 and 11) | |
# | $\omega$ | the weight-decay coefficient (lessons 05 and 10) | PyTorch's `weight_decay` |

# %% [markdown]
# ## How to use the notebooks
#
# * **Run everything** with *Run → Run All Cells*. Every notebook runs top to bottom on
#   a fresh kernel in under a minute on a laptop (the README's speed table
#   lists the measured times), with no internet and no GPU.
# * **Sliders** redraw the picture beside them at once: your browser computes and draws
#   every interactive figure itself. What you see depends on where you read:
#   * in JupyterLab, once you have run the cell, the live figure with its controls;
#   * in the notebook as shipped, before you run the cell, a still picture of its starting
#     setting (JupyterLab runs no script from a notebook it has not seen you save);
#   * in a copy you saved after running it, reopened, the live figure with working controls
#     before you run anything, in the setting its cell first displayed;
#   * in a notebook exported to HTML (`jupyter nbconvert --to html` in the course's
#     environment), the live figure with working controls and typeset formulas, with no kernel
#     and no network at all;
#   * on GitHub, which runs no JavaScript, at most the still picture.
#
#   Without a kernel, lesson 02's seed and new-noise controls cannot draw new noise (the
#   kernel draws it); the figure says so and keeps the saved draws.
# * **On a small screen**, in JupyterLab, hide the file browser once a lesson is open: untick
#   *View → Appearance → Show Left Sidebar*, or press Ctrl+B (⌘B on a Mac; press Esc first if
#   you are typing in a Markdown cell, where the key makes text bold). The lesson's column
#   widens: live figures redraw wider, and pictures shrunk to fit show larger. The same key
#   brings the file browser back.
# * **Exercises** end with a line such as `checks.gradient_descent.stability_limit(answer)`.
#   It prints `Correct: ...` when you are right; otherwise it stops with a message saying
#   what is wrong, usually with a hint. In the *students' copies* (Binder's `students/`
#   folder, the website's downloads, and those an instructor hands out) each answer cell
#   holds `# YOUR CODE HERE` and `raise NotImplementedError()`: replace both with your answer.
#
# The first cell of every notebook is the same: it imports and seeds every random
# generator, so that each run prints the same numbers (and the same on every computer:
# the course computes in double precision where it can, and prints nothing that depends
# on the processor).

# %%
import lessons_lib
from lessons_lib import optimizers, surfaces

lessons_lib.setup()

# %% [markdown]
# ## Check 1: the library and its reference optimizer
#
# The course's helper library `lessons_lib` holds what would distract from the
# lesson: test surfaces, reference optimizers, theory formulas and plotting. One
# step of gradient descent on $f(x) = \tfrac12 x^2$ from $x_0 = 1$ with learning rate
# $\eta = 0.5$ gives $x_1 = x_0 - \eta f'(x_0) = 1 - 0.5 = 0.5$. The reference
# optimizer agrees:

# %%
parabola = surfaces.quadratic([1.0, 1.0])
one_step = optimizers.run(parabola, [1.0, 0.0], "gd", lr=0.5, steps=1)
print("x_1 =", one_step.points[1, 0])
assert one_step.points[1, 0] == 0.5

# %% [markdown]
# ## Check 2: the interactive parts
#
# Drag the slider. The picture shows gradient descent on $f(x)=\tfrac12 x^2$: each
# step multiplies $x$ by $1-\eta$ (lesson 01 explains why). Below $\eta = 1$ the
# iterates creep toward 0, at $\eta = 1$ they land there in one step, between 1 and 2
# they flip sign while shrinking, and beyond 2 they grow. If the dots move while you
# drag, this browser runs the course's widgets. The browser itself computes and draws
# them (a small JavaScript module that ships with the course), so they answer within
# one frame, and keep working even while the kernel is busy. To check that the kernel
# hears the slider too, drag it to 1.50 and run the cell after it: it prints the value
# the kernel received.

# %%
from lessons_lib import plotting
from lessons_lib.widgets import ParabolaSlider

check = ParabolaSlider(lr=0.5)
check

# %%
print(f"the kernel sees lr = {check.lr:.2f}")

# %% [markdown]
# The readout as text, for the default step and for $\eta = 2.1$:

# %%
for lr in (0.5, 2.1):
    print(ParabolaSlider(lr=lr).readout.value)

# %% [markdown]
# ## A first look ahead
#
# Here is the picture the next lessons explain. On the valley
# $f(x,y) = 0.1x^2 + 2y^2$ (the example of Dive into Deep Learning, Zhang et al., section
# "Momentum"), gradient descent with its best constant step zig-zags slowly down the valley floor;
# the heavy ball with its best momentum (the rate-optimal pair of lesson 04) gets within
# $10^{-6}$ of the minimum's loss in about a third of the steps, counted below from the
# same start (the gap grows with the valley's condition number, lesson 04).
# Lesson 01 derives the first rate, lesson 04 the second.

# %%
import numpy as np

from lessons_lib import theory

valley = surfaces.get("quadratic")
mu, L = 0.2, 4.0
lr_gd, rate_gd = theory.optimal_gd(mu, L)
lr_hb, beta_hb, rate_hb = theory.optimal_momentum(mu, L)
runs = {
    f"gradient descent, η = {lr_gd:.3f}": optimizers.run(valley, valley.start, "gd", lr_gd, steps=100),
    f"momentum, η = {lr_hb:.3f}, β = {beta_hb:.3f}": optimizers.run(
        valley, valley.start, "momentum", lr_hb, beta_hb, steps=100),
}
fig2, (ax_paths, ax_loss) = plotting.trajectory_figure(valley, runs)
ax_loss.set_ylim(1e-14, None)  # below this, the loss is at float64's rounding level
every_point = np.concatenate([run.points for run in runs.values()])
ax_paths.set_xlim(min(ax_paths.get_xlim()[0], every_point[:, 0].min() - 0.5),
                  max(ax_paths.get_xlim()[1], every_point[:, 0].max() + 0.5))
ax_paths.set_ylim(min(ax_paths.get_ylim()[0], every_point[:, 1].min() - 0.5),
                  max(ax_paths.get_ylim()[1], every_point[:, 1].max() + 0.5))
steps_to_reach = {}
for label, run in runs.items():
    below = np.flatnonzero(run.losses - valley.f_min < 1e-6)
    steps_to_reach[label] = int(below[0])  # the first step within 1e-6 of the minimum's loss
    print(f"{label:32s} steps until f - f* < 1e-6: {steps_to_reach[label]}")
gd_steps, hb_steps = steps_to_reach.values()
print(f"gradient descent needs {gd_steps / hb_steps:.1f} times as many steps")
assert 2.5 < gd_steps / hb_steps < 3.5  # "about a third of the steps"

# %% [markdown]
# ## Summary
#
# * The course is fifteen notebooks, from gradient descent to a compressed network that
#   runs in integers; lessons 01 to 14 each have goals, checked formulas, a summary and
#   self-checking exercises.
# * `lessons_lib.setup()` at the top of each notebook makes every run print the same.
# * Widgets are computed and drawn by your browser; they stay live in a copy you saved and
#   in exported HTML, with no kernel; GitHub shows at most a still picture.
# * If the slider above moved the dots, you are ready for lesson 01.
