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
# ξ, so we report its size as $1 - \xi$: larger means a larger domain.

# %% tags=["parameters", "remove-cell"]
profile = "quick"  # "quick" (CPU, minutes) or "paper" (the paper's sizes)
device = "auto"  # "auto" → CUDA when available, else CPU; or "cpu" / "cuda"
seed = 0  # first seed; the paper profile adds seed + 1 and seed + 2
data_root = None  # None → $REPRO_DATA_ROOT, else ~/.cache/repro/data

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from repro import cache, claims, plotting, results, sweeps, verdicts
from repro.profiles import get_config

plotting.set_style()
cfg = get_config("fig10", profile)
dev = results.resolve_device(device)

# %% [markdown]
# ## The sweep
#
# The same sweep as the Figure 8 chapter (the settings are shared in `repro.profiles`): every learning rate is
# trained until its training loss first reaches each target, and there the stiffness of all validation pairs is
# binned by their distance in the input and in each layer; the first zero crossing and its bootstrap interval over
# validation images give the domain size.

# %%
sweep = sweeps.run_lr_sweep(cfg, data_root=data_root, device=dev, seed=seed, cache_dir=cache.cache_dir())
loss_rows = sweep.rows[(sweep.rows["rule"] == "loss") & sweep.rows["train_loss_target_reached"]]
layers = [layer for layer in sweep.layers if layer != sweeps.EUCLID]
sized = sweeps.domain_table(loss_rows, layers)
display(Markdown(sweep.describe() + f"  \nProfile *{profile}*, device {results.describe_device(dev)}."))

# %% mystnb={"figure": {"caption": "Stiff-domain size $1 - \\xi$ (dot-product distance) against the learning rate, in the input space and each layer's representation, measured when the training loss first reached the lowest target (like the paper's Figure 10). Error bars: 95% bootstrap intervals over validation images.", "name": "fig-fig10-domains"}}
last_target = min(cfg.target_losses)
fig = plotting.plot_domain_vs_lr(
    sized[sized["stop"] == last_target], layers, datasets=cfg.datasets,
    title=f"FC network: stiff-domain size at training loss {last_target:g}",
)

# %% [markdown]
# For every dataset, target loss and representation: the direction of the change from the lowest to the highest
# learning rate ("up": the highest rate's interval lies above the lowest's; "down": below; "unclear": they overlap)
# and Spearman's rank correlation.

# %%
trends = {layer: sweeps.lr_trend(sized[sized["layer"] == layer], "size", "size_lo", "size_hi") for layer in layers}
summary = sweeps.trend_summary(trends)
summary.style.format({"stop": "{:g}"}).hide(axis="index")

# %% [markdown]
# ## Paper vs this reproduction
#
# **The paper's claim.** At equal training loss, stiff domains are larger for higher learning rates, in the input
# space and in the network's representations, on both datasets.
#
# **Rule.** For each dataset and target loss, two checks: (1) in the input space the domain size goes "up" with
# the learning rate; (2) it goes "up" in at least half of the representations. All → *reproduced*, some →
# *partly reproduced*, none → *not reproduced*.

# %%
claim_checks = claims.domain_growth_checks(trends, "input")
verdict = verdicts.verdict(claim_checks)
display(verdicts.checks_table(claim_checks).style.hide(axis="index"))
display(Markdown(f"**Verdict: {verdict}.** The critical-length chapter sets this against the later version's "
                 "opposite claim and measures both under each version's definition."))

# %% tags=["remove-cell"]
results.save_results(
    "fig10", profile=profile, config=cfg, seed=seed, device=results.describe_device(dev),
    headline={f"{r.dataset}_loss{r.stop:g}_input_direction": r.direction for r in trends["input"].itertuples()},
    verdict=verdict,
    details={"data": sweep.data, "lrs": list(cfg.lrs), "targets": list(cfg.target_losses),
             "seconds_total": sweep.seconds_total, "checks": [vars(c) for c in claim_checks]},
)

# %% tags=["nbval-check-output"]
for r in trends["input"].itertuples():
    print(f"{r.dataset}, loss {r.stop:g}: input-space domain {r.direction}")
print(f"verdict: {verdict}")
