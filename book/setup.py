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
# # The set-up — what the untrained network looks like, and why the initialisation matters
#
# Figures 3, 5 and 6 of the paper begin "at initialization (before any gradient step was taken)", and the paper
# reads them as: within-class stiffness is positive, and "there is no consistent stiffness between different
# classes at initialization". That is a statement about *untrained* networks, so it depends on how their weights
# were drawn. Section 3.1 gives the architectures (a fully-connected network $784 \to 400 \to 200^5 \to 10$ and a
# four-layer CNN, both with ReLU), the preprocessing and the optimiser, but names neither the framework nor the
# initialisation.
#
# This chapter measures class stiffness of untrained networks under three common schemes, and then re-runs two
# chapters' experiments under each scheme to see which of the book's verdicts hang on the choice.

# %% tags=["parameters", "remove-cell"]
profile = "quick"  # "quick" (CPU, minutes) or "paper" (the paper's sizes)
device = "auto"  # "auto" → CUDA when available, else CPU; or "cpu" / "cuda"
seed = 0  # seeds data subsets, initialisation and shuffling
data_root = None  # None → $REPRO_DATA_ROOT, else ~/.cache/repro/data

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from repro import claims
from repro.analysis import setup
from repro.book import figures, tables
from repro.book.chapter import open_chapter
from repro.book.profiles import main_config
from repro.experiments import init_study
from repro.models import DEFAULT_INIT

ch = open_chapter("setup", profile=profile, device=device, seed=seed, data_root=data_root)
cfg = ch.config

# %% [markdown]
# ## Three initialisation schemes
#
# For a dense layer with $n_\text{in}$ inputs and $n_\text{out}$ outputs (for a $k \times k$ convolution,
# $n_\text{in} = C_\text{in} k^2$ and $n_\text{out} = C_\text{out} k^2$):
#
# - **torch** — PyTorch's default for `nn.Linear` and `nn.Conv2d`: weights *and biases* uniform,
#   $W_{ij},\, b_i \sim \mathcal{U}\!\left(-1/\sqrt{n_\text{in}},\, 1/\sqrt{n_\text{in}}\right)$, so
#   $\operatorname{Var} W_{ij} = 1/(3 n_\text{in})$;
# - **glorot** — Glorot (Xavier) uniform with zero biases, the Keras and TensorFlow default:
#   $W_{ij} \sim \mathcal{U}\!\left(-\sqrt{6/(n_\text{in}+n_\text{out})},\, \sqrt{6/(n_\text{in}+n_\text{out})}\right)$,
#   $b_i = 0$, so $\operatorname{Var} W_{ij} = 2/(n_\text{in}+n_\text{out})$;
# - **he** — He (Kaiming) normal for ReLU networks, zero biases: $W_{ij} \sim \mathcal{N}(0,\, 2/n_\text{in})$,
#   $b_i = 0$, which keeps the second moment of the signal constant from layer to layer.
#
# The paper's authors were at Google AI, which suggests TensorFlow and with it the Glorot default; the paper does
# not say.
#
# **A hypothesis about PyTorch's default.** Through a ReLU layer the second moment of a signal is multiplied by
# about $n_\text{in} \operatorname{Var} W_{ij} / 2$, which is $1/6$ under the torch scheme, while the layer's bias
# adds a fresh input-independent term of the same order as the shrinking signal. After six hidden layers the
# input-dependent part of the fully-connected network's output should be small next to the part fixed by the
# biases: the untrained network is then close to a *constant function*, and its logits (and softmax output $p$)
# are nearly the same for every image. The per-example gradient then depends on the image mostly through its
# logit gradient $p - e_y$, and for two images of different classes
# $(p - e_{y_1}) \cdot (p - e_{y_2}) = |p|^2 - p_{y_1} - p_{y_2}$, which is negative when $p$ is close to uniform
# ($\approx -1/K$): every between-class pair would be anti-stiff, a between-class sign stiffness of −1.
# Conversely, a network whose output is confident and favours one class $c$ for most images gets
# $|p|^2 - p_a - p_b \approx p_c^2 > 0$ for classes $a, b \neq c$: a positive between-class stiffness in the
# $(K-2)/K$ of the off-diagonal cells that do not involve $c$.
#
# Two numbers per network test this: the **logit spread**, the mean over images of $\lVert z_i - \bar z \rVert /
# \lVert \bar z \rVert$ for the logits $z_i$ and their mean $\bar z$ (near 0: a constant network), and the
# **largest softmax probability**, averaged over images ($1/K$: a uniform output).

# %% [markdown]
# ## Untrained networks under each scheme

# %%
table = ch.run(init_study.init_stiffness)
display(Markdown(f"{setup.networks_text(table, cfg, seed)} {ch.run_line()}"))

# %% mystnb={"figure": {"caption": "Untrained networks, one column per model. Top: between-class sign stiffness (Eq. 7) of each network, one point per seed and a bar at the mean; the grey band is ±0.1 around 0. Bottom: the share of the off-diagonal cells of its class stiffness matrix that are positive; the grey band (25–75%) is where cells of both signs are common.", "name": "fig-setup-init"}}
fig = figures.plot_init_stiffness(table, near_zero=claims.NEAR_ZERO, share_range=claims.POSITIVE_SHARE_RANGE)

# %% [markdown]
# Per model and scheme, over the seeds: between-class sign stiffness (mean, smallest, largest), within-class sign
# stiffness, the share of positive between-class cells, and the two output statistics of the hypothesis.

# %%
summary = setup.init_summary(table)
summary.style.hide(axis="index").format(precision=3)

# %%
display(Markdown(setup.output_statistics_text(summary, cfg)))

# %% [markdown]
# How to read these against the hypothesis: a logit spread near 0 is the constant network it predicts, and should
# go with a between-class stiffness of −1; a largest probability near $1/K$ (0.1 for the ten classes here) is a
# near-uniform output, which makes between-class pairs anti-stiff only to the extent that the images also share
# their Jacobians; a largest probability well above $1/K$ with most images in one class (the *top-class share* of
# the table) should give a share of positive cells near $(K-2)/K$.

# %%
display(Markdown(claims.init_consistency_rule()))
consistency = claims.init_consistency(table)
display(consistency.style.hide(axis="index").format(precision=3))
display(Markdown(setup.consistency_text(consistency)))

# %% [markdown]
# ## Which of the book's verdicts depend on the initialisation?
#
# The class-membership chapters test claims about the untrained network (Figure 3: no consistent between-class
# stiffness at initialisation) and about where training leads from it (Figure 4: between-class stiffness negative
# at the end of training on random labels). We run Figure 3's experiment and Figure 4's first run (the full training split
# with permuted labels) again under each scheme, with their *quick* settings whatever this chapter's profile, and
# apply each chapter's own rule (stated in its chapter).

# %%
runs = ch.run(init_study.runs_by_init, {chapter: main_config(chapter, "quick") for chapter in cfg.compare},
              inits=cfg.inits)
checks = claims.checks_by_init(runs)
verdict_by = setup.verdicts_by_init(checks)
tables.runs_table(runs, setup.verdict_labels(checks)).style.hide(axis="index").format(precision=3)

# %%
dependence, dependence_text = claims.init_dependence(verdict_by)
display(dependence)
display(Markdown(dependence_text))

# %% [markdown]
# The same verdict can rest on different checks under different schemes; the checks behind each verdict, per
# chapter and scheme:

# %%
for chapter, by_init in checks.items():
    for init, chapter_checks in by_init.items():
        display(Markdown(f"**{chapter}, {init}** — *{verdict_by[chapter][init]}*"))
        display(claims.checks_table(chapter_checks).style.hide(axis="index"))

# %%
display(Markdown(
    f"**What the book uses.** Every other chapter builds its networks with **{DEFAULT_INIT}** "
    "(`repro.models.DEFAULT_INIT`; each chapter's results file records it), the Keras/TensorFlow default and the "
    "likeliest for the paper. The choice is not neutral: the tables above show what it gives at initialisation and "
    "which verdicts it carries."
))

# %% tags=["nbval-check-output"]
ch.close(setup.headline(summary, checks), details=setup.details(table, consistency, checks, runs),
         summary=setup.summary_lines(summary, checks))
