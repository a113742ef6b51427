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
# # Figure 6 — class stiffness of a convolutional network on CIFAR-10
#
# The paper's Figure 6 shows the class stiffness matrix $C(c_a, c_b)$ (Eq. 6) of held-out pairs for its
# convolutional network on CIFAR-10, at initialisation, early in training and at two late stages. CIFAR-10 is much
# harder than MNIST for this small network, and a convolutional network shares its filters across the image, so
# the question is whether the same pattern — positive within-class stiffness from the start, between-class
# stiffness growing with training — holds there too.

# %% tags=["parameters", "remove-cell"]
profile = "quick"  # "quick" (CPU, minutes) or "paper" (the paper's sizes)
device = "auto"  # "auto" → CUDA when available, else CPU; or "cpu" / "cuda"
seed = 0  # seeds data subsets, initialisation and shuffling
data_root = None  # None → $REPRO_DATA_ROOT, else ~/.cache/repro/data

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from repro import claims, experiments, plotting, results, verdicts
from repro.profiles import get_config

plotting.set_style()
cfg = get_config("fig06", profile)
dev = results.resolve_device(device)

# %% [markdown]
# ## The run
#
# The paper's CNN: 3×3 convolutions with 32, 64, 128 and 256 channels, each followed by ReLU and 2×2 max-pooling,
# then one dense layer, no batch normalisation; trained with Adam at a constant learning rate and batch size 32 on
# standardised images. Along the way we compute, on a fixed class-balanced set of validation images, the exact
# Gram matrix of per-example gradients and from it the sign and cosine stiffness of every pair.

# %%
run = experiments.run_class_stiffness(cfg, data_root=data_root, device=dev, seed=seed, n_schedule=0)
display(Markdown(run.describe() + f"  \nProfile *{profile}*, seed {seed}, device {results.describe_device(dev)}."))

# %% mystnb={"figure": {"caption": "Sign stiffness (Eq. 5) between validation images by class, at initialisation, early in training and at two late stages (like the paper's Figure 6). Red cells: a gradient step on an image of the row's class lowers the loss on images of the column's class; blue: it raises it.", "name": "fig-fig06-sign"}}
fig = plotting.plot_run_stages(run, "sign", "CNN on CIFAR-10: sign stiffness by class")

# %% [markdown]
# The later version of the paper also reports the cosine between gradients, which weighs each pair by how strongly
# the gradients align rather than only whether they do.

# %% mystnb={"figure": {"caption": "The same four stages with cosine stiffness $\\cos(g_1, g_2)$.", "name": "fig-fig06-cos"}}
fig = plotting.plot_run_stages(run, "cos", "CNN on CIFAR-10: cosine stiffness by class")

# %% [markdown]
# Within- and between-class stiffness at the four stages, with 95% bootstrap intervals (resampling validation
# images, since pairs that share an image are not independent), next to the losses:

# %%
experiments.stage_table(run).style.hide(axis="index")

# %% [markdown]
# ## Paper vs this reproduction

# %%
claim_checks = claims.class_membership_checks(run.snapshots)
verdict = verdicts.verdict(claim_checks)
display(Markdown(claims.class_membership_rule()))
display(verdicts.checks_table(claim_checks).style.hide(axis="index"))
display(Markdown(f"**Verdict: {verdict}.**"))

# %% [markdown]
# As on MNIST (see the Figure 3 chapter), the softmax output is close to uniform at initialisation, so the logit
# gradients $p - e_y$ of two images of different classes point apart and between-class sign stiffness starts
# negative rather than at zero; what matters for the claim is the rise that training brings.
# %%
display(Markdown(run.trajectory()))

# %% tags=["remove-cell"]
results.save_results(
    "fig06", profile=profile, config=cfg, seed=seed, device=results.describe_device(dev), headline=run.headline(), verdict=verdict,
    details=run.details() | {"checks": [vars(c) for c in claim_checks]},
)

# %% tags=["nbval-check-output"]
print("\n".join(run.summary_lines()))
print(f"verdict: {verdict}")
