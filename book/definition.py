# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Stiffness, defined and checked
#
# The paper defines stiffness through a thought experiment: take one small gradient step on example 1 and watch
# the loss on example 2. This chapter runs that experiment numerically, on real MNIST validation images and the
# paper's fully-connected network, and checks that it agrees with the formula the rest of the book relies on.
#
# For weights $W$ and per-example loss $\mathcal{L}$, let $\vec g_i = \nabla_W \mathcal{L}(f_W(X_i), y_i)$
# (Eq. 1). A step $W \to W - \varepsilon \vec g_1$ changes the loss on example 2 by
#
# $$\Delta\mathcal{L}_2 = \mathcal{L}(f_{W - \varepsilon \vec g_1}(X_2), y_2) - \mathcal{L}(f_W(X_2), y_2)
#   = -\varepsilon\, \vec g_1 \cdot \vec g_2 + O(\varepsilon^2),$$
#
# the descent-direction form of the paper's Eqs. 2–4. The loss on example 1 itself always falls
# ($\Delta\mathcal{L}_1 = -\varepsilon |\vec g_1|^2$), so the two examples are *stiff* when
# $\vec g_1 \cdot \vec g_2 > 0$ and *anti-stiff* when it is negative. Stiffness (Eq. 5) is the expected sign,
#
# $$S = \mathbb{E}\left[\operatorname{sign}(\vec g_1 \cdot \vec g_2)\right],$$
#
# and the later version of the paper adds the cosine $\cos(\vec g_1, \vec g_2)$, which keeps the size of the
# alignment and not only its direction.

# %% tags=["parameters", "remove-cell"]
profile = "quick"  # "quick" (CPU, minutes) or "paper" (the paper's sizes)
device = "auto"  # "auto" → CUDA when available, else CPU; or "cpu" / "cuda"
seed = 0  # seeds data subsets, initialisation and shuffling
data_root = None  # None → $REPRO_DATA_ROOT, else ~/.cache/repro/data

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from repro import claims
from repro.analysis import definition
from repro.book import figures
from repro.book.chapter import open_chapter
from repro.experiments.definition import run_definition

ch = open_chapter("definition", profile=profile, device=device, seed=seed, data_root=data_root)

# %% [markdown]
# ## The network and the data
#
# We train the paper's fully-connected network ($784 \to 400 \to 200^{5} \to 10$, ReLU) briefly with Adam, so
# that the gradients are those of a network in the middle of learning rather than at a random initialisation.
# The pairs come from a fixed, class-balanced set of held-out images (the paper's "stiffness set").

# %%
run = ch.run(run_definition)
display(Markdown(definition.data_text(run)))

# %% [markdown]
# ## A step on one example, the loss on another
#
# For a few pairs of validation images we take the step $-\varepsilon \vec g_1$ in float64 for a range of
# $\varepsilon$ and compare the finite difference $[\mathcal{L}_2(W - \varepsilon \vec g_1) - \mathcal{L}_2(W)]
# / \varepsilon$ with the prediction $-\vec g_1 \cdot \vec g_2$. We pick pairs of the same class and of different
# classes.

# %% mystnb={"figure": {"caption": "Left: the relative error between the finite difference and $-g_1 \\cdot g_2$ falls in proportion to $\\varepsilon$, the signature of a first-order (Taylor) agreement. Right: the finite differences converge onto the predicted values (dashed).", "name": "fig-definition-fd"}}
fig = figures.plot_finite_difference(run.finite_differences, definition.pair_labels(run))

# %% [markdown]
# The table gives the numbers at the smallest step, together with the same check for example 1 itself
# ($\Delta\mathcal{L}_1/\varepsilon \to -|\vec g_1|^2$, Eq. 3).

# %%
definition.finite_difference_table(run).style.format(definition.FINITE_DIFFERENCE_FORMAT).hide(axis="index")

# %% [markdown]
# ## Sign and cosine stiffness
#
# The rest of the book never takes finite differences: it computes the exact matrix of gradient dot products
# $G_{ij} = \vec g_i \cdot \vec g_j$ for a whole set at once (`repro.stiffness.per_example_gram`) and reads sign
# and cosine stiffness off it. Here are a few pairs of the stiffness set. The sign keeps only the direction of the
# loss change; the cosine says how strongly the two gradients align.

# %%
definition.pair_stiffness_table(run).style.format(definition.PAIR_STIFFNESS_FORMAT).hide(axis="index")

# %% [markdown]
# Far into training the entries of $G$ become too small to represent: validation losses of $10^{-20}$ give
# gradient products below float32's range, and on MNIST losses reach $10^{-160}$. The book therefore reads
# stiffness off the *unit Gram* $\hat G_{ij} = G_{ij} / (s_i s_j)$, with $s_i$ the norm of example $i$'s logit
# gradient (`repro.stiffness.unit_gram`: the engine back-propagates unit logit gradients and keeps the $s_i$ as
# logarithms). Its signs and cosines are those of $G$; for this network:

# %%
display(Markdown(definition.unit_gram_text(run)))

# %% [markdown]
# ## Paper vs this reproduction

# %%
verdict = ch.judge(definition.checks(run), rule=claims.definition_rule())

# %% [markdown]
# The losses here are computed as $\log\bigl(1 + \sum_{k \ne y} e^{z_k - z_y}\bigr)$ (`repro.losses`), which
# keeps full precision for images the network classifies with near certainty; the textbook form
# $-\log \operatorname{softmax}(z)_y$ rounds their loss, and in float32 their gradient, to nonsense once
# $p_y$ is within rounding of 1 — common after one epoch on MNIST.

# %% tags=["nbval-check-output"]
ch.close(definition.headline(run), details=definition.details(run), summary=definition.summary_lines(run))

# %% [markdown]
# ## What the paper states that this chapter does not check
#
# - *"We define stiffness to be the expected sign of $\vec g_1 \cdot \vec g_2$ (or equivalently the expected sign
#   of $\Delta\mathcal{L}_1 \Delta\mathcal{L}_2$)"* (v1 §2.1, Eq. 5) — a definition, which the book adopts; the
#   equivalence with the product of loss changes is Eq. 4's, checked above, not a separate part.
# - *"$\Delta\mathcal{L}_1 = \varepsilon\, \vec g_1 \cdot \vec g_1$"* (v1 Eq. 3) — shown in the table above for
#   each pair, not a part of the verdict (it is Eq. 4 with example 2 = example 1).
# - The cosine metric $S_{\cos}$ of the later version — defined there, computed in the table of pairs above; a
#   definition, so nothing to reproduce.
# - *"Stiff functions are less flexible and therefore less prone to overfitting to the particular details of a
#   dataset."* (v1 §1.1) — an interpretation; the overfitting chapter (Figure 2) measures what stiffness does
#   when a network overfits.
