"""The setup chapter's study of initialisation schemes, on small synthetic data and constructed tables."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from repro import claims
from repro.analysis import setup
from repro.book import figures as plotting
from repro.book import tables
from repro.experiments import init_study
from repro.experiments.configs import ClassStiffnessConfig, SetupConfig

CFG = SetupConfig(models=(("spherical_harmonics", "fc"),), n_seeds=2, n_stiffness=40, n_boot=20)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return init_study.init_stiffness(CFG, seed=0, progress=False)


def test_init_stiffness_rows_and_bounds(table):
    assert len(table) == len(CFG.inits) * CFG.n_seeds
    assert list(table["init"]) == [i for i in CFG.inits for _ in range(CFG.n_seeds)]
    assert list(table["seed"]) == [0, 1] * len(CFG.inits)
    expected = {
        "dataset", "arch", "init", "seed", "within", "within_lo", "within_hi", "between", "between_lo",
        "between_hi", "within_cos", "between_cos", "positive_share", "logit_spread", "max_prob", "top_class_share",
    }  # fmt: skip
    assert expected <= set(table.columns)
    for col in ("within", "between", "within_lo", "between_hi", "within_cos", "between_cos"):
        assert table[col].abs().max() <= 1 + 1e-12
    assert (table["between_lo"] <= table["between"]).all() and (table["between"] <= table["between_hi"]).all()
    assert table["positive_share"].between(0, 1).all()
    assert table["max_prob"].between(0.5, 1).all()  # two classes
    assert (table["logit_spread"] >= 0).all()


def test_init_stiffness_differs_between_schemes_and_is_deterministic(table):
    by_init = table.groupby("init")["between_cos"].apply(tuple)
    assert len(set(by_init)) == len(CFG.inits)
    again = init_study.init_stiffness(CFG, seed=0, progress=False)
    pd.testing.assert_frame_equal(table, again)


def _constructed() -> pd.DataFrame:
    rows = []
    for init, betweens, shares in (("torch", (-1.0, -0.9), (0.0, 0.1)), ("he", (0.3, -0.1, 0.05), (0.8, 0.4, 0.5))):
        for s, (b, share) in enumerate(zip(betweens, shares, strict=True)):
            rows.append(
                {"dataset": "mnist", "arch": "fc", "init": init, "seed": s, "within": 0.5 + s / 10, "between": b,
                 "positive_share": share, "logit_spread": 0.1, "max_prob": 0.2, "top_class_share": 1.0}
            )  # fmt: skip
    return pd.DataFrame(rows)


def test_init_summary_against_hand_computation():
    summary = setup.init_summary(_constructed())
    assert list(summary["init"]) == ["torch", "he"]  # the table's order
    torch_row, he_row = summary.iloc[0], summary.iloc[1]
    assert torch_row["seeds"] == 2 and he_row["seeds"] == 3
    assert torch_row["between (mean)"] == pytest.approx(-0.95)
    assert he_row["between (mean)"] == pytest.approx(0.083, abs=1e-9)  # (0.3 − 0.1 + 0.05) / 3, rounded
    assert (he_row["between (min)"], he_row["between (max)"]) == (-0.1, 0.3)
    assert torch_row["within (mean)"] == pytest.approx(0.55)
    assert he_row["positive share (mean)"] == pytest.approx(0.567, abs=1e-9)


def test_init_consistency_rule():
    """Both readings: torch's −0.95 is not consistently positive but far from zero; He's values of both signs pass
    both; positive values in every seed are consistently positive even when cells of both signs are common."""
    out = claims.init_consistency(_constructed()).set_index("init")
    assert out.loc["torch", "not consistently positive"] == "yes"
    assert out.loc["torch", "close to zero or mixed"] == "no"
    assert out.loc["he", "not consistently positive"] == out.loc["he", "close to zero or mixed"] == "yes"
    t = _constructed().assign(between=0.4, positive_share=0.6)
    assert set(claims.init_consistency(t)["close to zero or mixed"]) == {"yes"}
    assert set(claims.init_consistency(t)["not consistently positive"]) == {"no"}
    text = setup.consistency_text(claims.init_consistency(_constructed()))
    assert "*not consistently positive*: holds for mnist/fc under torch" in text


def test_init_dependence_names_each_chapter():
    verdicts = {
        "fig03": {"torch": "partly reproduced", "glorot": "partly reproduced", "he": "reproduced"},
        "fig04": {"torch": "reproduced", "glorot": "reproduced", "he": "reproduced"},
    }
    table, text = claims.init_dependence(verdicts)
    assert table.shape == (2, 3) and list(table.columns) == ["torch", "glorot", "he"]
    assert table.loc["fig03", "he"] == "reproduced"
    assert "depend on the initialisation: fig03;" in text and "do not: fig04." in text
    assert "*partly reproduced* under torch and glorot; *reproduced* under he" in text
    assert "**fig04** does not depend on it: *reproduced* under every scheme" in text
    _, none_vary = claims.init_dependence({"fig04": verdicts["fig04"]})
    assert "depend on the initialisation: none" in none_vary


def test_plot_init_stiffness_one_column_per_model():
    t = pd.concat([_constructed(), _constructed().assign(dataset="cifar10", arch="cnn")], ignore_index=True)
    fig = plotting.plot_init_stiffness(t)
    assert isinstance(fig, Figure)
    axes = np.array(fig.axes).reshape(2, 2)
    assert [ax.get_title() for ax in axes[0]] == ["mnist, FC network", "cifar10, CNN"]
    assert axes[0, 0].get_ylabel() == "between-class sign stiffness"
    plt.close(fig)


def test_runs_by_init_and_runs_table():
    cfg = ClassStiffnessConfig(
        dataset="spherical_harmonics", arch="fc", n_train=200, n_stiffness=40, n_val=100, lr=1e-3,
        max_images=320, stages=(0, 64, 320), n_boot=20,
    )  # fmt: skip
    runs = init_study.runs_by_init({"toy": cfg}, ("torch", "he"), seed=0, progress=False)
    assert list(runs) == ["toy"] and list(runs["toy"]) == ["torch", "he"]
    assert [r.config.init for r in runs["toy"].values()] == ["torch", "he"]
    assert all(r.config.max_images == 320 and len(r.snapshots) == 3 for r in runs["toy"].values())
    table = tables.runs_table(runs, {"toy": {"torch": "reproduced", "he": "not reproduced"}})
    assert list(table["init"]) == ["torch", "he"] and list(table["verdict"]) == ["reproduced", "not reproduced"]
    assert (table["last stage (images seen)"] == 320).all()
    assert table["between at init"].str.fullmatch(r"[+-]\d\.\d{3} \[[+-]\d\.\d{3}, [+-]\d\.\d{3}\]").all()


def test_setup_readings_of_the_summary():
    cfg = SetupConfig(models=(("mnist", "fc"),), inits=("torch", "he"), n_seeds=3)
    summary = setup.init_summary(_constructed())
    text = setup.output_statistics_text(summary, cfg)
    assert "- **mnist, fc**: logit spread torch 0.100, he 0.100;" in text
    assert "between-class sign stiffness torch -0.95, he +0.08." in text
    consistency = claims.init_consistency(_constructed())
    assert setup.consistency_text(consistency).splitlines()[2:] == [
        "- *not consistently positive*: holds for mnist/fc under torch, mnist/fc under he; fails for none.",
        "- *close to zero or mixed*: holds for mnist/fc under he; fails for mnist/fc under torch.",
    ]
    assert setup.networks_text(_constructed(), cfg, seed=2).startswith(
        "5 untrained networks: 1 models × 2 schemes × 3 seeds (seeds 2–4)."
    )


def test_setup_verdicts_headline_and_summary_lines():
    holds, contradicted = claims.Check("a", True, ""), claims.Check("b", False, "")
    checks = {"fig03": {"torch": [holds, contradicted], "he": [holds]}}
    assert setup.verdicts_by_init(checks) == {"fig03": {"torch": "partly reproduced", "he": "reproduced"}}
    assert setup.verdict_labels(checks)["fig03"]["torch"] == "partly reproduced (1 hold, 1 contradicted, 0 undecided)"
    summary = setup.init_summary(_constructed())
    headline = setup.headline(summary, checks)
    assert headline["mnist/fc torch between mean"] == pytest.approx(-0.95)
    assert headline["fig03 verdict under he"] == "reproduced"
    assert setup.summary_lines(summary, checks) == [
        "mnist/fc torch: between at init -0.9",  # -0.95 is -0.9499… in binary
        "mnist/fc he: between at init +0.1",
        "fig03: torch partly reproduced, he reproduced",
    ]


def test_checks_by_init_applies_each_chapters_checks_and_refuses_others():
    with pytest.raises(ValueError, match="no checks for chapter"):
        claims.checks_by_init({"fig09": {}})
    assert set(claims.COMPARED_CHECKS) == set(SetupConfig().compare)


def test_main_config_is_the_first_run_of_a_chapter_with_several():
    from repro.book.profiles import get_config, main_config

    assert main_config("fig04", "quick") == get_config("fig04", "quick")[0]
    assert main_config("fig04", "quick").random_labels and main_config("fig04", "quick").n_train is None
    assert main_config("fig03", "paper") == get_config("fig03", "paper")


def test_init_consistency_rule_quotes_the_thresholds_the_rule_uses(monkeypatch):
    from repro.claims import initialisation

    rule = claims.init_consistency_rule()
    assert "within ±0.1 of zero" in rule and "between 25% and 75%" in rule
    monkeypatch.setattr(initialisation, "NEAR_ZERO", 0.2)
    monkeypatch.setattr(initialisation, "POSITIVE_SHARE_RANGE", (0.3, 0.7))
    rule = claims.init_consistency_rule()
    assert "within ±0.2 of zero" in rule and "between 30% and 70%" in rule
