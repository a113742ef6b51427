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
import pandas as pd
from IPython.display import Markdown, display

from repro import claims
from repro.book import figures
from repro.book.chapter import open_chapter
from repro.experiments.numerics import finite_difference_check
from repro.experiments.setup import new_model, split_for
from repro.stiffness import per_example_gram, stiffness_from_gram, unit_gram
from repro.training import TrainConfig, train

ch = open_chapter("definition", profile=profile, device=device, seed=seed, data_root=data_root)
cfg = ch.config

# %% [markdown]
# ## The network and the data
#
# We train the paper's fully-connected network ($784 \to 400 \to 200^{5} \to 10$, ReLU) briefly with Adam, so
# that the gradients are those of a network in the middle of learning rather than at a random initialisation.
# The pairs come from a fixed, class-balanced set of held-out images (the paper's "stiffness set").

# %%
split = split_for(cfg, seed=seed, device=ch.device, data_root=data_root)
ds, x_tr, y_tr, x_st, y_st = split.dataset, split.x_train, split.y_train, split.x_stiffness, split.y_stiffness
model = new_model(cfg.arch, ds, init=cfg.init, seed=seed, device=ch.device)
run = train(model, x_tr, y_tr, config=TrainConfig(lr=cfg.lr, max_images=cfg.train_images, seed=seed),
            eval_at=[cfg.train_images], progress=False)
display(Markdown(
    f"**Data.** {ds.describe()}  \n"
    f"Training subset: {x_tr.shape[0]:,} images; network trained for {run.images_seen:,} images seen "
    f"(training loss {run.records[-1]['train_loss']:.3f}, status *{run.status}*). "
    f"Stiffness set: {x_st.shape[0]} validation images ({ds.num_classes} classes, balanced)."
))

# %% [markdown]
# ## A step on one example, the loss on another
#
# For a few pairs of validation images we take the step $-\varepsilon \vec g_1$ in float64 for a range of
# $\varepsilon$ and compare the finite difference $[\mathcal{L}_2(W - \varepsilon \vec g_1) - \mathcal{L}_2(W)]
# / \varepsilon$ with the prediction $-\vec g_1 \cdot \vec g_2$. We pick pairs of the same class and of different
# classes.

# %%
same = [(i, j) for i in range(len(y_st)) for j in range(i + 1, len(y_st)) if y_st[i] == y_st[j]]
diff = [(i, j) for i in range(len(y_st)) for j in range(i + 1, len(y_st)) if y_st[i] != y_st[j]]
pairs = (same[: (cfg.n_pairs + 1) // 2] + diff[: cfg.n_pairs // 2])[: cfg.n_pairs]
checks, labels = [], []
for i, j in pairs:
    df = finite_difference_check(model, x_st[i], y_st[i], x_st[j], y_st[j], cfg.epsilons)
    checks.append(df)
    labels.append(f"pair ({ds.classes[y_st[i]]}, {ds.classes[y_st[j]]}): g₁·g₂ = {-df['pred_other'].iloc[0]:+.2e}")

# %% mystnb={"figure": {"caption": "Left: the relative error between the finite difference and $-g_1 \\cdot g_2$ falls in proportion to $\\varepsilon$, the signature of a first-order (Taylor) agreement. Right: the finite differences converge onto the predicted values (dashed).", "name": "fig-definition-fd"}}
fig = figures.plot_finite_difference(checks, labels)

# %% [markdown]
# The table gives the numbers at the smallest step, together with the same check for example 1 itself
# ($\Delta\mathcal{L}_1/\varepsilon \to -|\vec g_1|^2$, Eq. 3).

# %%
eps_min = min(cfg.epsilons)
rows = []
for (i, j), df in zip(pairs, checks, strict=True):
    last = df[df["epsilon"] == eps_min].iloc[0]
    rows.append({
        "example 1": f"#{i} ({ds.classes[y_st[i]]})", "example 2": f"#{j} ({ds.classes[y_st[j]]})",
        "−g₁·g₂": last["pred_other"], "ΔL₂/ε": last["fd_other"], "relative error": last["rel_err_other"],
        "ΔL₁/ε relative error": last["rel_err_self"],
    })
fd_table = pd.DataFrame(rows)
fd_table.style.format({"−g₁·g₂": "{:+.4e}", "ΔL₂/ε": "{:+.4e}", "relative error": "{:.1e}",
                       "ΔL₁/ε relative error": "{:.1e}"}).hide(axis="index")

# %% [markdown]
# ## Sign and cosine stiffness
#
# The rest of the book never takes finite differences: it computes the exact matrix of gradient dot products
# $G_{ij} = \vec g_i \cdot \vec g_j$ for a whole set at once (`repro.stiffness.per_example_gram`) and reads sign
# and cosine stiffness off it. Here are a few pairs of the stiffness set. The sign keeps only the direction of the
# loss change; the cosine says how strongly the two gradients align.

# %%
G = per_example_gram(model, x_st, y_st)
S_sign, S_cos = stiffness_from_gram(G, "sign"), stiffness_from_gram(G, "cos")
sample = pairs + diff[cfg.n_pairs : cfg.n_pairs + 2]
pair_table = pd.DataFrame([
    {"pair": f"#{i} ({ds.classes[y_st[i]]}) – #{j} ({ds.classes[y_st[j]]})", "g₁·g₂": float(G[i, j]),
     "sign stiffness": int(S_sign[i, j]), "cosine stiffness": float(S_cos[i, j])}
    for i, j in sample
])
# The Gram must agree with the dot products of the finite-difference check.
gram_vs_autograd = max(abs(float(G[i, j]) + df["pred_other"].iloc[0]) / abs(df["pred_other"].iloc[0])
                       for (i, j), df in zip(pairs, checks, strict=True))
pair_table.style.format({"g₁·g₂": "{:+.3e}", "cosine stiffness": "{:+.3f}"}).hide(axis="index")

# %% [markdown]
# Far into training the entries of $G$ become too small to represent: validation losses of $10^{-20}$ give
# gradient products below float32's range, and on MNIST losses reach $10^{-160}$. The book therefore reads
# stiffness off the *unit Gram* $\hat G_{ij} = G_{ij} / (s_i s_j)$, with $s_i$ the norm of example $i$'s logit
# gradient (`repro.stiffness.unit_gram`: the engine back-propagates unit logit gradients and keeps the $s_i$ as
# logarithms). Its signs and cosines are those of $G$; for this network:

# %%
unit = unit_gram(model, x_st, y_st)
display(Markdown(
    f"Sign stiffness from $\\hat G$ and from $G$ differs in {int((stiffness_from_gram(unit.unit, 'sign') != S_sign).sum())}"
    f" of {S_sign.numel():,} pairs; the largest cosine difference is "
    f"{float((stiffness_from_gram(unit.unit, 'cos') - S_cos).abs().max()):.1e}; "
    f"$s_i$ ranges from {float(unit.log_norms.exp().min()):.1e} to {float(unit.log_norms.exp().max()):.1e}."
))

# %% [markdown]
# ## Paper vs this reproduction
#
# **The paper's claim (Eqs. 2–5).** A small gradient step on example 1 changes the loss on example 2 by
# $-\varepsilon\, \vec g_1 \cdot \vec g_2$, so stiffness is a property of gradient alignment.
#
# **Rule.** Three parts, over every pair: (i) the relative error of the finite difference at the smallest step is
# below $10^{-3}$; (ii) first-order convergence: the Taylor remainder of the finite difference shrinks as
# $O(\varepsilon)$, while float64 rounding of the two losses, divided by $\varepsilon$, grows as $1/\varepsilon$.
# The rounding floor at each step is estimated from the smallest step's error (taken as rounding, scaled by
# $\varepsilon_{\min}/\varepsilon$; at least $10^{-12}$, the rounding of $\vec g_1 \cdot \vec g_2$ itself); over
# the steps whose error is at least 10× that floor, the slope of $\log$ error against $\log \varepsilon$ must be
# at least 0.9. A pair with fewer than two such steps is at the rounding floor from the largest step on (its loss
# is nearly linear along the step) and agrees to rounding, so it passes; an error that does not shrink stays
# above the floor with a slope near 0 and fails (`repro.claims.convergence`); (iii) the Gram matrix agrees with
# the per-pair autograd dot products to $10^{-5}$ relative. Each is decided as holds or contradicted (no interval);
# the verdict follows the book's rule, shown below.
#
# The losses here are computed as $\log\bigl(1 + \sum_{k \ne y} e^{z_k - z_y}\bigr)$ (`repro.losses`), which
# keeps full precision for images the network classifies with near certainty; the textbook form
# $-\log \operatorname{softmax}(z)_y$ rounds their loss, and in float32 their gradient, to nonsense once
# $p_y$ is within rounding of 1 — common after one epoch on MNIST.

# %%
rel_err_min = float(fd_table["relative error"].max())
orders = [claims.convergence_order(df["epsilon"], df["rel_err_other"]) for df in checks]
lowest_order = min((c.order for c in orders if not c.at_floor), default=float("nan"))
verdict = ch.judge([
    claims.check_inside("ΔL₂/ε → −g₁·g₂ at the smallest step", "max relative error", rel_err_min, 0.0, 1e-3),
    claims.convergence_check([(df["epsilon"], df["rel_err_other"]) for df in checks]),
    claims.check_inside("exact Gram = autograd dot products", "max relative gap", gram_vs_autograd, 0.0, 1e-5),
])

# %% tags=["nbval-check-output"]
ch.close(
    {"max_rel_err_smallest_eps": rel_err_min, "lowest_convergence_order": lowest_order,
     "pairs_at_rounding_floor": sum(c.at_floor for c in orders),
     "gram_vs_autograd_rel_gap": gram_vs_autograd, "n_pairs": len(pairs)},
    details={"data": ds.describe(), "n_stiffness": int(x_st.shape[0]), "train_images": run.images_seen,
             "epsilons": list(cfg.epsilons)},
    summary=[f"pairs checked: {len(pairs)}", f"relative error at smallest step below 1e-3: {rel_err_min < 1e-3}",
             f"first-order convergence (order ≥ {claims.MIN_ORDER:g} above the rounding floor, or at the floor): "
             f"{all(c.first_order for c in orders)}"],
)
