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
# # Figure 10 — the size of stiff domains against the learning rate
#
# The Figure 9 chapter found, for one network, the distance at which stiffness of validation pairs first crosses
# zero — the edge of the *stiff domain*. The paper's Figure 10 tracks that size across learning rates, for the
# fully-connected network on MNIST and Fashion-MNIST, in the input space and in every layer's representation, with
# networks compared at equal training loss. Its claim: **stiff domains grow with the learning rate** — higher
# learning rates learn functions whose response to a gradient step varies over larger distances, in line with the
# higher between-class stiffness of Figure 8.
#
# With the dot-product distance of Eq. 9 (a cosine, 1 = same point) the domain reaches from 1 down to the crossing
# ξ, so we report its size as $1 - \xi$: larger means a larger domain. The raw ξ is shown beside it below.

# %% tags=["parameters", "remove-cell"]
profile = "quick"  # "quick" (CPU, minutes) or "paper" (the paper's sizes)
device = "auto"  # "auto" → CUDA when available, else CPU; or "cpu" / "cuda"
seed = 0  # first seed; the paper profile adds seed + 1 and seed + 2
data_root = None  # None → $REPRO_DATA_ROOT, else ~/.cache/repro/data

# %% tags=["remove-cell"]

from IPython.display import Markdown, display

from repro import claims
from repro.analysis.lr_sweep import group_seconds
from repro.analysis.sweep_domains import crossing_shares
from repro.book import figures, tables
from repro.book.chapter import open_chapter
from repro.book.sweep import read_domains, read_sweep
from repro.experiments.distance import EUCLID

ch = open_chapter("fig10", profile=profile, device=device, seed=seed, data_root=data_root)
cfg = ch.config

# %% [markdown]
# ## The sweep
#
# The same sweep as the Figure 8 chapter (the settings are shared in `repro.book.profiles`): every learning rate is
# trained until its training loss first reaches each target, and there the stiffness of all validation pairs is
# binned by their distance in the input and in each layer; the first zero crossing and its bootstrap interval over
# validation images give the domain size.

# %%
reading = read_sweep(ch)
sweep, rows, untrained = reading.sweep, reading.rows, reading.untrained
loss_rows = rows[(rows["rule"] == "loss") & rows["train_loss_target_reached"]]
layers = [layer for layer in sweep.layers if layer != EUCLID]
sized = read_domains(ch, loss_rows, layers)
ch.describe(sweep)

# %% [markdown]
# ## Which networks count
#
# ```{include} _includes/which-networks-count.md
# ```

# %%
display(Markdown(reading.untrained_note()))

# %% [markdown]
# ## Where a zero crossing was found
#
# ```{include} _includes/crossing-found.md
# ```

# %% mystnb={"figure": {"caption": "Where the stiffness-against-distance curve crosses zero, per dataset, stopping point, learning rate and representation. Colour: the share of seeds whose measured curve crossed; text: seeds that crossed / seeds whose curve stayed positive over the whole measured range (a bound: the domain is at least that range) / seeds measured.", "name": "fig-fig10-crossings"}}
fig = figures.plot_crossing_shares(crossing_shares(sized), layers, title="FC network: where the stiffness curve crosses zero (loss stops)")

# %% [markdown]
# The same as a table, with the measured range of the seeds beyond it and the share of bootstrap replicates that
# cross (folded: click to show).

# %% tags=["hide-output"]
tables.sweep_crossing_table(sized).style.format({"stop": "{:g}", "lr": "{:g}"}).hide(axis="index")

# %% [markdown]
# ## Raw ξ and domain size: which one the paper means
#
# The sweep measures the first zero crossing ξ on each representation's own axis: for Eq. 9's dot-product
# distance that is a cosine, where 1 is the same point and pairs *above* ξ are stiff. A domain that grows therefore
# has a raw ξ that *falls*. The paper's sentences are about the size, not the raw value. It warns that the axis
# runs backwards ("Note that the dot product distance of 1 corresponds to points being at the same place"), and
# states the result as a size: "We observed that the characteristic size of stiff regions in the learned function
# increases with higher learning rates", and in the introduction, "High learning rates induce functional
# approximations that are stiffer over larger distances (i.e. data points further apart respond similarly to
# gradient updates)". On Eq. 9's axis "further apart" means a lower cosine. So v1's claim is that $1 - \xi$ rises,
# which is the same as the raw cosine ξ falling. This chapter judges v1 on that size
# (`repro.claims.V1_READING`). The text does not say what Figure 10's axis shows, and we cannot see the plot. If it
# showed the raw cosine crossing, "grow" read off that plot would mean the opposite. The table gives both values
# for every cell, so either reading can be checked.

# %% tags=["hide-output"]
cells = claims.xi_and_size(sized)
tables.xi_size_table(cells).style.format({"stop": "{:g}", "lr": "{:g}"}).hide(axis="index")

# %% mystnb={"figure": {"caption": "Stiff-domain size $1 - \\xi$ (dot-product distance) against the learning rate, in the input space and each layer's representation, measured when the training loss first reached the lowest target (like the paper's Figure 10). Error bars: 95% bootstrap intervals over validation images, averaged over the seeds whose curve crossed. An upward arrow: some seed's curve stayed positive over the whole measured range, so the size is at least there.", "name": "fig-fig10-domains"}}
last_target = min(cfg.target_losses)
fig = figures.plot_domain_vs_lr(
    sized[sized["stop"] == last_target], layers, datasets=cfg.datasets,
    title=f"FC network: stiff-domain size at training loss {last_target:g}",
)

# %% [markdown]
# For every dataset, target loss and representation: the direction of the domain size over every learning rate
# (the rank trend stated with the rule below: "up" or "down" when its permutation p is below 0.05, else
# "unclear"), and how many representations go each way.

# %%
trends = {
    layer: claims.lr_trend(sized[sized["layer"] == layer], "size", "size_lo", "size_hi", "censored")
    for layer in layers
}
summary = tables.trend_summary(trends)
summary.style.format({"stop": "{:g}"}).hide(axis="index")

# %% [markdown]
# In the input space, the end points beside the rank trend (the book's earlier reading, shown, not deciding): at
# the lowest and highest learning rate the mean domain size over seeds, its interval (a 95% bootstrap over seeds of
# each seed's estimate with two or more seeds, `repro.claims.seed_interval`; with one seed its own interval over
# validation images, as "interval over" says) and each seed's own interval over images; then the rank trend that
# decides: τ, p, and the least p the design can give.

# %%
tables.trend_table(trends["input"], "size").style.format(
    {"stop": "{:g}", "lowest lr": "{:g}", "highest lr": "{:g}"}, precision=3, na_rep="—"
).hide(axis="index")

# %% [markdown]
# ## Paper vs this reproduction
#
# **The paper's words.** *"We extracted the first zero-stiffness crossing, such as in 9, and obtained the variation
# of stiff domain sizes with learning rate. We observed that the characteristic size of stiff regions in the learned
# function increases with higher learning rates. The stiff region size corresponds to the distance between inputs
# (in the input pixel space as well as in the representation spaces of the neural network itself) under which a
# gradient update tends to improve all of them."* (v1 §4.3, Figure 10.)
#
# **The paper's claim, as checked.** At equal training loss, stiff domains are larger for higher learning rates, in
# the input space and in the network's representations, on both datasets. "Increases with higher learning rates" is
# read as a trend over every rate; "in the representation spaces" as at least half of them (the other reading,
# every representation, is in the trend summary above).
#
# **Rule.** For each dataset and target loss, two parts: (1) in the input space the domain size goes "up" with
# the learning rate (*holds*; "down": *contradicted*; "unclear", overlapping intervals: *undecided*); (2) it goes
# "up" in at least half of the representations (*holds*; otherwise "down" in at least half: *contradicted*; else
# *undecided*). A direction is the rank trend over every learning rate stated under this paragraph; a curve that
# never crossed counts with its bound (see above). The verdict follows the book's rule, shown below.

# %%
display(Markdown(claims.trend_method()))
verdict = ch.judge(
    claims.domain_growth_checks(trends, "input"),
    note="The critical-length chapter sets this against the later version's opposite claim and measures both under "
    "each version's definition.",
)

# %% tags=["nbval-check-output"]
ch.close(
    {f"{r.dataset}_loss{r.stop:g}_input_direction": r.direction for r in trends["input"].itertuples()},
    details={"data": sweep.data, "lrs": list(cfg.lrs), "targets": list(cfg.target_losses),
             "untrained_stops": len(untrained), "seconds_total": sweep.seconds_total,
             "group_seconds": group_seconds(sweep)},
    summary=[f"{r.dataset}, loss {r.stop:g}: input-space domain {r.direction}" for r in trends["input"].itertuples()],
)

# %% [markdown]
# ## What the paper states that this chapter does not check
#
# - *"It characterizes the spatial frequency of the learned function's response to gradient updates."* (v1 §4.3)
#   — an interpretation; the book's own test of it on synthetic data is the spherical-harmonics chapter.
# - *"Our observations seem connected to recent work on regularization using interpolation between data points in
#   Verma et al. (2018)."* (v1 §4.3) — a pointer to other work, not a measurement.
# - Figure 10's own axis and values: the text does not say whether it plots the raw cosine crossing or a size, and
#   we cannot see the plot; the chapter gives both for every cell.
