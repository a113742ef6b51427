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
# # Figure 4 — random labels: stiffness when nothing general can be learned
#
# The paper's Figure 4 repeats Figure 3 with one change: the network is trained on MNIST with its training labels
# *randomly permuted*. Nothing general can be learned from such data — the network can only memorise — so no
# feature that helps many images should appear. Stiffness is still measured on validation images with their true
# labels.
#
# The paper's reading: the between-class stiffness converges to negative values (towards −1 for sign stiffness),
# because the best the network can do for unseen images is to spread its probability evenly over the classes,
# and any gradient step on one image pushes towards its (random) class and away from the others.

# %% tags=["parameters", "remove-cell"]
profile = "quick"  # "quick" (CPU, minutes) or "paper" (the paper's sizes)
device = "auto"  # "auto" → CUDA when available, else CPU; or "cpu" / "cuda"
seed = 0  # seeds data subsets, initialisation and shuffling
data_root = None  # None → $REPRO_DATA_ROOT, else ~/.cache/repro/data

# %% tags=["remove-cell"]
import math

from IPython.display import Markdown, display

from repro import claims, experiments, plotting, results, verdicts
from repro.profiles import get_config

plotting.set_style()
cfg = get_config("fig04", profile)
dev = results.resolve_device(device)

# %% [markdown]
# ## The run
#
# The fully-connected network, trained with Adam at a constant learning rate and batch size 32 on standardised
# images whose labels were shuffled once, with a fixed seed (the label histogram is unchanged). Along the
# way we compute, on a fixed class-balanced set of validation images, the exact Gram matrix of per-example
# gradients and from it the sign and cosine stiffness of every pair.

# %%
run = experiments.run_class_stiffness(cfg, data_root=data_root, device=dev, seed=seed, n_schedule=0)
display(Markdown(run.describe() + f"  \nProfile *{profile}*, seed {seed}, device {results.describe_device(dev)}."))

# %% mystnb={"figure": {"caption": "Sign stiffness (Eq. 5) between validation images by class, at initialisation, early in training and at two late stages (like the paper's Figure 4), for a network trained on randomly permuted labels. Red cells: a gradient step on an image of the row's class lowers the loss on images of the column's class; blue: it raises it.", "name": "fig-fig04-sign"}}
fig = plotting.plot_run_stages(run, "sign", "FC network on MNIST, random training labels: sign stiffness by class")

# %% [markdown]
# The later version of the paper also reports the cosine between gradients, which weighs each pair by how strongly
# the gradients align rather than only whether they do.

# %% mystnb={"figure": {"caption": "The same four stages with cosine stiffness $\\cos(g_1, g_2)$.", "name": "fig-fig04-cos"}}
fig = plotting.plot_run_stages(run, "cos", "FC network on MNIST, random training labels: cosine stiffness by class")

# %% [markdown]
# Within- and between-class stiffness at the four stages, with 95% bootstrap intervals (resampling validation
# images, since pairs that share an image are not independent), next to the losses:

# %%
experiments.stage_table(run).style.hide(axis="index")

# %% [markdown]
# ## Paper vs this reproduction
#
# **The paper's claim.** Trained on random labels, the network converges to a state with no positive stiffness
# between classes: between-class stiffness of validation pairs converges to negative values.
#
# **Rule** (sign stiffness, 95% bootstrap intervals). Two checks: (1) between-class stiffness at the last stage is
# negative (its interval lies below 0); (2) no positive between-class structure remains: at the last stage no
# off-diagonal cell of the class stiffness matrix exceeds +0.1. Both → *reproduced*, one → *partly reproduced*,
# none → *not reproduced*.

# %%
claim_checks = claims.random_label_checks(run.snapshots)
verdict = verdicts.verdict(claim_checks)
display(verdicts.checks_table(claim_checks).style.hide(axis="index"))
display(Markdown(f"**Verdict: {verdict}.**"))

# %% [markdown]
# **Where −1 comes from, and where it goes.** At initialisation the softmax output is already close to uniform,
# which is exactly the state the paper describes as the end point: the logit gradients $p - e_y$ of images of
# different classes point apart and between-class sign stiffness is close to −1 from the first step (see the
# Figure 3 chapter). What training on random labels does to it afterwards is the question the figure answers.

# %%
display(Markdown(run.trajectory()))

# %%
end = run.history.iloc[-1]
chance, uniform_loss = 1 / len(run.class_names), math.log(len(run.class_names))
display(Markdown(
    f"Validation accuracy at the end: {end['val_acc']:.3f} (chance is {chance:.3f}); training loss "
    f"{end['train_loss']:.3f} (a uniform guess scores ln K = {uniform_loss:.3f}): the network "
    + ("memorises without learning anything that transfers." if claims.memorised(run.history, len(run.class_names))
       else "has not memorised its random labels (training loss above a tenth of ln K, or accuracy more than "
       f"{claims.CHANCE_TOLERANCE:g} from chance), so the run says little about the claim.")
))

# %% tags=["remove-cell"]
results.save_results(
    "fig04", profile=profile, seed=seed, device=results.describe_device(dev), headline=run.headline(), verdict=verdict,
    details=run.details() | {"checks": [vars(c) for c in claim_checks]},
)

# %% tags=["nbval-check-output"]
print("\n".join(run.summary_lines()))
print(f"verdict: {verdict}")
