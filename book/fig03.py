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
# # Figure 3 — class stiffness of a fully-connected network on MNIST
#
# The paper's Figure 3 shows the *class stiffness matrix* $C(c_a, c_b)$ (Eq. 6) — the mean stiffness of pairs of
# held-out images, one of class $c_a$ and one of class $c_b$ — for the fully-connected network on MNIST at four
# moments of training: at initialisation, early, and at two late stages. Its diagonal measures how much a gradient
# step on one image helps other images of the *same* class; its off-diagonal cells how much it helps images of
# *other* classes. Their means are the within-class and between-class stiffness (Eq. 7).
#
# The paper's reading: at initialisation only the diagonal is positive (crude features, such as overall intensity,
# shared within a class); as training proceeds, within-class stiffness stays high and between-class stiffness
# grows, because the network learns features useful to many classes.

# %% tags=["parameters", "remove-cell"]
profile = "quick"  # "quick" (CPU, minutes) or "paper" (the paper's sizes)
device = "auto"  # "auto" → CUDA when available, else CPU; or "cpu" / "cuda"
seed = 0  # seeds data subsets, initialisation and shuffling
data_root = None  # None → $REPRO_DATA_ROOT, else ~/.cache/repro/data

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from repro import claims
from repro.analysis.class_stiffness import headline, run_details, summary_lines, trajectory
from repro.book import figures, tables
from repro.book.chapter import open_chapter
from repro.experiments.class_stiffness import run_class_stiffness

ch = open_chapter("fig03", profile=profile, device=device, seed=seed, data_root=data_root)

# %% [markdown]
# ## The run
#
# The paper's fully-connected network ($784 \to 400 \to 200^5 \to 10$, ReLU), on MNIST.
#
# ```{include} _includes/class-membership-run.md
# ```

# %%
run = ch.run(run_class_stiffness)
ch.describe(run)

# %% mystnb={"figure": {"caption": "Sign stiffness (Eq. 5) between validation images by class, at initialisation, early in training and at two late stages (like the paper's Figure 3). Red cells: a gradient step on an image of the row's class lowers the loss on images of the column's class; blue: it raises it.", "name": "fig-fig03-sign"}}
fig = figures.plot_run_stages(run, "sign", "FC network on MNIST: sign stiffness by class")

# %% [markdown]
# ```{include} _includes/cosine-stiffness.md
# ```

# %% mystnb={"figure": {"caption": "The same four stages with cosine stiffness $\\cos(g_1, g_2)$.", "name": "fig-fig03-cos"}}
fig = figures.plot_run_stages(run, "cos", "FC network on MNIST: cosine stiffness by class")

# %% [markdown]
# ```{include} _includes/stage-table.md
# ```

# %%
tables.stage_table(run).style.hide(axis="index")

# %% [markdown]
# ## Paper vs this reproduction

# %%
verdict = ch.judge(claims.class_membership_checks(run.snapshots), rule=claims.class_membership_rule())

# %% [markdown]
# **Why between-class stiffness can start negative.** At initialisation the network's softmax output $p$ is
# close to uniform, and the gradient of the cross-entropy with respect to the logits is $p - e_y$. For two images
# of different classes $(p - e_{y_1}) \cdot (p - e_{y_2}) = |p|^2 - p_{y_1} - p_{y_2} \approx 1/K - 2/K < 0$,
# while for the same class it is $\approx 1 - 1/K > 0$. The gradient of every layer is this logit gradient
# propagated back and multiplied by the layer's input, and standardised MNIST images overlap strongly (the
# background), so the sign of $g_1 \cdot g_2$ at initialisation is mostly the sign of the logit-gradient product:
# stiff within a class, anti-stiff between classes. The paper's Figure 4 gives the same argument for random labels.

# %%
display(Markdown(trajectory(run)))

# %% [markdown]
# The late stages also bear on the paper's Figure 2, which reports that stiffness on validation pairs falls back
# towards zero once the network starts to overfit. The chapter on Figure 2 follows the whole run and tests that.

# %% tags=["nbval-check-output"]
ch.close(headline(run), details=run_details(run), summary=summary_lines(run))
