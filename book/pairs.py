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
# # Training and validation pairs, sign and cosine
#
# The later version of the paper (its Figure 4) measures class stiffness of a CNN on Fashion-MNIST for three kinds
# of pairs — two *training* images, a training and a *validation* image, two validation images — with both the
# sign metric $S_\mathrm{sign} = \mathbb{E}[\operatorname{sign}(\vec g_1 \cdot \vec g_2)]$ and the cosine metric
# $S_{\cos} = \mathbb{E}[\cos(\vec g_1, \vec g_2)]$, at four stages of training.
#
# Pairs of training images show how a step on one training image moves the loss on the rest of the training set
# (optimisation); pairs involving validation images show how it moves the loss on unseen data (generalisation).
# Comparing them separates what the network fits from what transfers.

# %% tags=["parameters", "remove-cell"]
profile = "quick"  # "quick" (CPU, minutes) or "paper" (the paper's sizes)
device = "auto"  # "auto" → CUDA when available, else CPU; or "cpu" / "cuda"
seed = 0  # seeds data subsets, initialisation and shuffling
data_root = None  # None → $REPRO_DATA_ROOT, else ~/.cache/repro/data

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from repro import claims
from repro.analysis.class_stiffness import run_details
from repro.book import figures, tables
from repro.book.chapter import open_chapter
from repro.experiments.class_stiffness import run_class_stiffness
from repro.experiments.history import METRICS, PAIR_KINDS

ch = open_chapter("pairs", profile=profile, device=device, seed=seed, data_root=data_root)


# %% [markdown]
# ## The run
#
# The paper's CNN trained with Adam (constant learning rate, batch 32) on Fashion-MNIST. At each stage one exact
# Gram matrix over a class-balanced set of validation images and a class-balanced set of the training images
# gives all three kinds of pairs at once.

# %%
run = ch.run(run_class_stiffness)
ch.describe(run, f"Training pairs: {ch.config.n_stiffness_train} images drawn class-balanced from the training set.")

# %% mystnb={"figure": {"caption": "Sign stiffness by class for validation–validation (top), training–training (middle) and training–validation (bottom; rows: the training image's class) pairs, at four stages of training.", "name": "fig-pairs-sign"}}
fig = figures.plot_pair_kinds(run, "sign", "CNN on Fashion-MNIST: sign stiffness")

# %% mystnb={"figure": {"caption": "The same with cosine stiffness.", "name": "fig-pairs-cos"}}
fig = figures.plot_pair_kinds(run, "cos", "CNN on Fashion-MNIST: cosine stiffness")

# %% [markdown]
# Within- and between-class values for every kind of pair, metric and stage (95% bootstrap intervals; for
# training–validation pairs the bootstrap resamples both sets):

# %%
tables.pair_table(run).style.hide(axis="index")

# %% [markdown]
# ## Paper vs this reproduction

# %%
last = run.snapshots[-1]
verdict = ch.judge(claims.pair_checks(last), rule=claims.pairs_rule())

# %%
tt, vv = last.summary("train-train", "sign"), last.summary("val-val", "sign")
display(Markdown(
    f"At the last stage ({figures.stage_label(last.images_seen)}) training pairs have within-class sign stiffness "
    f"{tt.within:+.2f} and between-class {tt.between:+.2f}; validation pairs {vv.within:+.2f} and "
    f"{vv.between:+.2f}. The training loss is {run.history['train_loss'].iloc[-1]:.3f} and the validation loss "
    f"{run.history['val_loss'].iloc[-1]:.3f}."
))

# %% tags=["nbval-check-output"]
headline = {}
for kind in PAIR_KINDS:
    for metric in METRICS:
        s = last.summary(kind, metric)
        headline |= {f"{kind}_{metric}_within": s.within, f"{kind}_{metric}_between": s.between}
ch.close(headline, details=run_details(run), summary=[
    f"{kind}: within {last.summary(kind, 'sign').within:+.1f}, between {last.summary(kind, 'sign').between:+.1f}"
    for kind in PAIR_KINDS
])

# %% [markdown]
# ## What the paper states that this chapter does not check
#
# - *"Stiffness as a function of epoch. The plots summarize the evolution of within-class and between-classes
#   stiffness measures as a function of epoch of training for a CNN on FASHION MNIST."* (v3 Fig. 5) — the caption
#   states no result to check; the table above gives the values at the four stages.
# - The values at each of the paper's four stages: the caption gives no numbers and does not name the stages in
#   training time, so ours are compared with its words only.
# - The later version's experiment with a transformer (BERT) on MNLI (its abstract) — a different model and task;
#   the book runs vision networks only.
