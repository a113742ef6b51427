# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Stiffness, re-executed
#
# This book reproduces *Stiffness: A New Perspective on Generalization in Neural Networks* (Fort, Nowak,
# Jastrzebski and Narayanan, [arXiv 1901.09491](https://arxiv.org/abs/1901.09491)) one figure per chapter. Every
# number and every figure in it is computed when the chapter is executed; nothing is copied from the paper except
# the claims we test. This page says what stiffness is, how the chapters are laid out, and how to re-run them.

# %% tags=["parameters", "remove-cell"]
profile = "quick"  # "quick" (CPU-sized) or "paper" (the paper's sizes)
device = "auto"  # "auto" → CUDA when available, "cpu" or "cuda"
seed = 0
data_root = None  # None → $REPRO_DATA_ROOT, else ~/.cache/repro/data

# %% tags=["remove-cell"]
import repro
from repro.book import find_toc, read_toc
from repro.book.profiles import profile_table
from repro.devices import describe_device, resolve_device

# %% [markdown]
# ## What stiffness is
#
# Take a network $f_W$ with weights $W$, a loss $\mathcal{L}$ and a labelled example $(X, y)$. The gradient
#
# $$
# \vec{g} = \nabla_W \mathcal{L}(f_W(X), y) \tag{1}
# $$
#
# is the direction in weight space along which that example's loss grows fastest. Now take two examples,
# $(X_1, y_1)$ and $(X_2, y_2)$, with gradients $\vec g_1$ and $\vec g_2$, and make a small gradient-descent step
# on the *first* one only, $W \to W - \varepsilon \vec g_1$. To first order in $\varepsilon$ the two losses change
# by
#
# $$
# \Delta\mathcal{L}_1 = \mathcal{L}(f_{W - \varepsilon \vec g_1}(X_1), y_1) - \mathcal{L}(f_W(X_1), y_1)
#   \approx -\varepsilon\, \vec g_1 \cdot \vec g_1 \tag{2–3}
# $$
#
# $$
# \Delta\mathcal{L}_2 = \mathcal{L}(f_{W - \varepsilon \vec g_1}(X_2), y_2) - \mathcal{L}(f_W(X_2), y_2)
#   \approx -\varepsilon\, \vec g_1 \cdot \vec g_2 . \tag{4}
# $$
#
# The step always helps example 1 ($\Delta\mathcal{L}_1 < 0$). Whether it also helps example 2 depends only on the
# sign of the *gradient alignment* $\vec g_1 \cdot \vec g_2$: positive means both losses go down (the two examples
# are *stiff*), negative means the step on example 1 hurts example 2 (*anti-stiff*). (The paper writes the step as
# $W + \varepsilon \vec g_1$ with the loss going down; the sign convention changes nothing below.) The paper's
# stiffness between two examples is the expected sign,
#
# $$
# S\big((X_1, y_1), (X_2, y_2); f\big) = \mathbb{E}\left[\operatorname{sign}(\vec g_1 \cdot \vec g_2)\right], \tag{5}
# $$
#
# averaged over the pairs of whatever population is being studied: two examples of the same class, two examples a
# given distance apart, and so on.
#
# **Sign and cosine stiffness.** Equation (5) is *sign stiffness*, $S_\mathrm{sign}$. The later version of the paper
# also uses *cosine stiffness*, which keeps the size of the alignment as well as its sign,
#
# $$
# S_{\cos} = \mathbb{E}\left[\frac{\vec g_1 \cdot \vec g_2}{|\vec g_1|\,|\vec g_2|}\right] .
# $$
#
# Both lie in $[-1, 1]$; both are statistics of the Gram matrix $G_{ij} = \vec g_i \cdot \vec g_j$ of per-example
# gradients, which is what the package computes, exactly, for every pair of a held-out set.
#
# **Class stiffness matrix.** Grouping pairs by the classes of their two examples gives a $K \times K$ matrix for
# $K$ classes,
#
# $$
# C(c_a, c_b) = \mathbb{E}_{X_1 \in c_a,\, X_2 \in c_b}\left[S\big((X_1, y_1), (X_2, y_2)\big)\right] . \tag{6}
# $$
#
# Its diagonal says whether a step on one example helps the others of its class (*within-class* stiffness); its
# off-diagonal cells say whether it helps other classes, i.e. whether the features being learned are general. The
# paper summarises them by the mean of the off-diagonal cells,
#
# $$
# S_\text{between classes} = \frac{1}{N_c (N_c - 1)} \sum_{c_1} \sum_{c_2 \neq c_1} C(c_1, c_2) , \tag{7}
# $$
#
# and the within-class stiffness by the mean of the diagonal (an example paired with itself is never counted).
# Following the paper, the pairs come from *held-out* examples, so stiffness speaks about generalisation.
#
# **Stiffness and distance.** Each layer of the network maps an input to a representation,
# $X = R^{(0)} \to R^{(1)} \to \dots \to R^{(L)}$. The paper measures how far apart two inputs are, in the input
# space or in any of these representations, by the normalised dot product
#
# $$
# \operatorname{dot}(R_1, R_2) = \frac{R_1 \cdot R_2}{|R_1|\,|R_2|} , \tag{9}
# $$
#
# which is $1$ for two inputs at the same place and is bounded by $\pm 1$ in every layer, so layers can be compared.
# Averaging stiffness over pairs binned by this distance gives a curve that starts positive for nearby pairs and
# falls to zero further out. The distance of the first zero crossing is the size of a *stiff region*: inputs closer
# than that move together under a gradient step. The later version of the paper calls this scale the *dynamical
# critical length* $\xi$. The two versions disagree on how it changes with the learning rate (the first says stiff
# regions grow with it, the later one that higher learning rates shrink $\xi$); the book measures both readings.

# %% [markdown]
# ## An assumption: the initialisation
#
# The paper names neither its framework nor how its networks were initialised, and the untrained network is
# where several of its claims start ("no consistent between-class stiffness at initialisation"). The choice is
# not innocent: under PyTorch's default (weights *and biases* uniform in $\pm 1/\sqrt{\text{fan-in}}$) the six
# hidden layers of the fully-connected network turn every input into nearly the same output, and between-class
# sign stiffness starts at −1. This book initialises every network with **Glorot-uniform weights and zero
# biases**, the Keras/TensorFlow default and so the likeliest for a 2019 paper written at Google; it is a setting
# of every experiment (`init` in the table below, stored in every results file), and the chapter *The set-up*
# (after *The definition*) measures what depends on it: the untrained networks under three schemes, and the
# verdicts of Figures 3 and 4 re-run under each.

# %% [markdown]
# ## How to read a chapter
#
# Each chapter reproduces one figure of the paper and follows the same plan:
#
# 1. **The claim.** What the paper shows in that figure, in a sentence or two, and the set-up it used.
# 2. **The experiment.** Short cells that call the `repro` package (all the logic lives in `src/repro/`; a chapter
#    only chooses settings and draws), each with a sentence before it and a remark after its output.
# 3. **The figure**, laid out like the paper's, with a caption that says what was measured and at what size.
# 4. **Paper vs this reproduction.** The paper's claim next to the numbers measured here, and a verdict computed
#    from those numbers by a rule stated in advance, not written by hand: each part of the claim *holds*, is
#    *contradicted* (the data show the opposite) or is *undecided* (the data cannot tell), and one rule for the
#    whole book, shown under every verdict, turns the parts into *reproduced*, *supported* (what the data decide
#    holds, some parts undecided), *partly reproduced*, *not reproduced* or *inconclusive* (nothing decided).
#
# Each chapter also writes its headline numbers and its verdict to a machine-readable file,
# `_build/results/<profile>/<chapter>.json`, together with the seed, the device, the versions and the git commit
# that produced them.

# %% [markdown]
# ## Re-executing the book
#
# Every chapter is a [Jupytext](https://jupytext.readthedocs.io) py:percent file in `book/` with four parameters:
# `profile` (`"quick"` or `"paper"`), `device` (`"auto"`, `"cpu"` or `"cuda"`), `seed` and `data_root` (`None`
# means `$REPRO_DATA_ROOT`, else `~/.cache/repro/data`). From the repository root:
#
# ```bash
# make book                           # venv, every chapter (quick profile), then the site in _build/html/
# make book PROFILE=paper DEVICE=cuda # the paper's sizes on a GPU
# make test                           # unit tests, notebook regression (nbval), browser test of the site
# ```
#
# One chapter at a time, with the runner (it writes `_build/executed/<profile>/<chapter>.ipynb` and reports the
# chapter and cell if anything fails):
#
# ```bash
# .venv/bin/python -m repro.runner run fig03 --profile paper --device cuda --seed 0
# .venv/bin/python -m repro.runner site --profile paper   # rebuild the site from the executed notebooks
# ```
#
# or with plain papermill:
#
# ```bash
# .venv/bin/jupytext --to ipynb book/fig03.py -o /tmp/fig03.ipynb
# .venv/bin/papermill /tmp/fig03.ipynb fig03-paper.ipynb -k python3 --cwd book \
#     -p profile paper -p device cuda -p seed 0
# ```
#
# The *quick* profile shrinks the experiments so that every chapter runs on two CPU cores in minutes and keeps the
# qualitative result; the *paper* profile uses the paper's sizes and is meant for a GPU. The settings of both:

# %% tags=["remove-input"]
profile_table()

# %% [markdown]
# The page you are reading was executed with these parameters:

# %% tags=["remove-input"]
print(f"profile = {profile!r}, seed = {seed}, device = {device!r} → {describe_device(resolve_device(device))}")

# %% [markdown]
# ## The chapters
#
# The package version and the chapters of this book, in reading order:

# %% tags=["nbval-check-output"]
print(f"repro {repro.__version__}")
for chapter in read_toc(find_toc()):
    print(f"- {chapter.name}")
