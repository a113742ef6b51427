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
# # Figure 9 — stiffness against distance, in every layer
#
# Two nearby inputs should respond alike to a gradient step; two far-apart ones need not. The paper measures this
# directly: for a trained fully-connected network on MNIST, the mean stiffness of validation pairs as a function
# of their *dot-product distance* (Eq. 9) — the cosine between the two inputs, or between the two representations
# $R^{(l)}$ that layer $l$ forms of them (Eq. 8). A cosine of 1 is the same point.
#
# The paper's Figure 9: stiffness is positive for close pairs and falls with distance, crossing zero at a
# characteristic distance — the size of the *stiff domain* — in the input space and in every layer, with deeper
# layers having smaller stiff domains. The later version keeps the input space's part in its own words: stiffness
# decays with input-space distance, below a "dynamical critical length".

# %% tags=["parameters", "remove-cell"]
profile = "quick"  # "quick" (CPU, minutes) or "paper" (the paper's sizes)
device = "auto"  # "auto" → CUDA when available, else CPU; or "cpu" / "cuda"
seed = 0  # seeds data subsets, initialisation, shuffling and the bootstrap
data_root = None  # None → $REPRO_DATA_ROOT, else ~/.cache/repro/data

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from repro import claims
from repro.book import figures, tables
from repro.book.chapter import open_chapter
from repro.experiments.distance import run_distance

ch = open_chapter("fig09", profile=profile, device=device, seed=seed, data_root=data_root)
cfg = ch.config

# %% [markdown]
# ## The run
#
# The network is trained with Adam until its training loss first reaches a target; then the exact Gram matrix of
# per-example gradients on a class-balanced validation set gives the sign stiffness of every pair, and each layer's
# representations give the pairs' distances. Pairs are binned by distance (bins with fewer than 10 pairs are left
# out of the crossing); the zero crossing comes with a bootstrap interval over validation images.

# %%
run = ch.run(run_distance)
reached = (
    f"reached training loss {cfg.target_loss:g} after {run.images_seen:,} images seen"
    if run.images_seen is not None
    else f"did not reach training loss {cfg.target_loss:g} within {cfg.max_images:,} images"
)
display(Markdown(
    f"**Data.** {run.data_description}  \nTrained on {run.n_train:,} training images (Adam, learning rate "
    f"{cfg.lr:g}, batch 32); the network {reached} (training loss now {run.train_loss:.3f}). Stiffness set: "
    f"{run.n_stiffness} validation images, {run.n_stiffness * (run.n_stiffness - 1) // 2:,} pairs.  \n"
    f"Run time {run.seconds_total:.0f} s. {ch.run_line()}"
))

# %% mystnb={"figure": {"caption": "Mean sign stiffness of validation pairs against their distance in the input space and in each layer's representation (dot-product distance; 1 = same direction), and, last, against the Euclidean distance between inputs. Error bars: standard errors of the bin means. Dashed: the first zero crossing coming from the same-point end, with its 95% bootstrap interval.", "name": "fig-fig09-profiles"}}
fig = figures.plot_distance_profiles(run.analysis.critical, run.layers, title="FC network on MNIST: stiffness vs distance")

# %% [markdown]
# The crossings, with the stiff-domain size expressed as a distance that grows with the domain ($1 - \xi$ for the
# dot-product distance, $\xi$ for the Euclidean one):

# %%
tables.crossing_table(run.analysis).style.format({"xi": "{:.3f}", "domain size": "{:.3f}"}, na_rep="no crossing").hide(
    axis="index"
)

# %% [markdown]
# ## Paper vs this reproduction

# %%
checks = claims.fig09_checks(claims.distance_checks(run.analysis), run.analysis)
by_version = {v: claims.verdict(c) for v, c in claims.fig09_version_checks(checks).items()}
verdict = ch.judge(checks, rule=claims.fig09_rule(),
                   note=f"The first version's claim (every part): *{by_version['v1']}*; the later version's (the input "
                   f"space's parts): *{by_version['v3']}*.")

# %% tags=["nbval-check-output"]
ch.close(
    {f"xi[{layer}]": c.xi for layer, c in run.analysis.critical.items()}
    | {f"{v}_verdict": by_version[v] for v in by_version},
    details={"data": run.data_description, "n_train": run.n_train, "n_stiffness": run.n_stiffness,
             "images_seen": run.images_seen, "seconds_total": run.seconds_total},
    summary=[f"{layer}: crossing found {c.xi is not None}" for layer, c in run.analysis.critical.items()]
    + [f"{v}: {by_version[v]}" for v in by_version],
)

# %% [markdown]
# ## What the paper states that this chapter does not check
#
# - *"We investigate L_1 and L_2 distances, as well as the dot product distance between representations."*
#   (v1 §2.3) — the chapter measures the dot-product distance in every layer and the Euclidean (L₂) one in the
#   input space only; L₁ distances and Euclidean distances between representations are not measured.
# - *"We track this threshold distance as a function of training"* (v1 §2.3) — Figure 9's network is measured
#   once, at its target training loss; the stored measurement holds no other moment of training. (The dependence
#   on the learning rate is Figure 10's and the critical-length chapter's.)
# - *"It characterizes the spatial frequency of the learned function's response to gradient updates."* (v1 §4.3)
#   and the stiff domain as *"the characteristic length scale"* (v1 §4.4) — an interpretation the paper itself
#   leaves open; the book's own test of it on synthetic data is the spherical-harmonics chapter.
# - *"Our observations seem connected to recent work on regularization using interpolation between data points in
#   Verma et al. (2018)."* (v1 §4.3) — a pointer to other work, not a measurement.
