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
# # Summary: the paper's claims, checked
#
# Every chapter ends with a "Paper vs this reproduction" section: the paper's claim in our words, split into the
# parts it asserts, a rule stated before the numbers for deciding each part, checks computed from the measurements,
# and a verdict by one rule for the whole book, stated below. Each chapter writes what it found to a results file;
# this page reads them all back. Nothing on it is typed by hand. The paper's claims and the questions this book
# adds of its own are kept apart: only the paper's claims are tallied.

# %% tags=["parameters", "remove-cell"]
profile = "quick"  # the profile whose results files to read
device = "auto"  # unused here (kept for a uniform interface)
seed = 0  # unused here
data_root = None  # unused here

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from repro import claims
from repro.book import find_toc, read_toc
from repro.book.chapter import open_chapter
from repro.book.results import display_path, load_records, results_dir

ch = open_chapter("claims", profile=profile, device=device, seed=seed, data_root=data_root)
compared = "quick" if profile != "quick" else "paper"  # the other profile, shown beside each verdict
# the set-up chapter tests no claim of the paper (it measures what depends on our choice of initialisation)
chapters = [c.name for c in read_toc(find_toc()) if c.name not in ("intro", "setup", "claims")]
found = load_records(profile)

# %%
display(Markdown(claims.VERDICT_RULE))

# %% [markdown]
# ## The paper's claims
#
# One row per claim of the paper, in the book's order: where the claim is in the paper, what it says, the versions
# of the paper that state it (with each version's own verdict where the chapter judged them apart), how many of the
# claim's parts hold, are contradicted and are undecided (preconditions, such as "the network overfits", are not
# counted: one that does not hold makes the verdict *inconclusive*), the verdict, and the profile, device and time
# of the run that produced it.

# %%
table = claims.claims_table(found, chapters)
display(Markdown(f"Results read from `{display_path(results_dir() / profile)}`: {len(found)} results files."))
table.style.hide(axis="index")

# %% [markdown]
# **Tally**, per version of the paper (the first version, v1, and the later one, v3; a claim stated in both
# counts in both):

# %%
tally = claims.tally(found, chapters)
tally.style.hide(axis="index")

# %% [markdown]
# ## Findings
#
# Each claim of each version of the paper: the paper's words, this run's verdict with the counts of its parts, the
# parts that did not hold, what the chapter said beside its verdict (where it names what in our set-up could
# produce the result), and the verdict of the other profile's run for the same claim (the *quick* profile is the
# short run the tests re-execute; *paper* the paper-scale one). Read from the results files; nothing typed by hand.

# %%
other = load_records(compared)
display(Markdown(f"The other profile, *{compared}*: {len(other)} results files under "
                 f"`{display_path(results_dir() / compared)}`{'' if other else ' (none: that profile was not run here)'}."))
claims.findings_table(found, other, chapters, compared).style.hide(axis="index")

# %% [markdown]
# ## Questions this book adds
#
# Hypotheses of our own, prompted by the paper but not stated in it. They are judged by the same rule and are not
# counted in the tally above.

# %%
questions = claims.questions_table(found, chapters)
questions.style.hide(axis="index")

# %% [markdown]
# ## How much the verdicts depend on the thresholds
#
# Each named threshold of the verdict code (`repro.claims.thresholds`) halved and doubled, the chapters it can move
# executed again from their stored measurements (nothing trained): per threshold, what it decides, its default, and
# at each changed value the verdicts, and findings in words, that move (chapter: at the default → at that value).

# %%
where = results_dir() / profile
sensitivity = claims.load_sensitivity(where / claims.SENSITIVITY_FILE)
if sensitivity is None:
    display(Markdown(claims.sensitivity_missing(profile, display_path(where))))
else:
    display(claims.sensitivity_table(sensitivity).style.hide(axis="index"))
if sensitivity and (skipped := claims.not_computed(sensitivity)):
    display(Markdown("Not computed from stored data:\n\n" + "\n".join(f"- {line}" for line in skipped)))
display(Markdown(claims.NOT_COVERED))

# %% [markdown]
# ## The numbers behind each verdict
#
# Every check of every chapter, with its outcome and the measurements it compared (bootstrap intervals over
# validation images unless the check says otherwise):

# %%
claims.checks_long_table(found, chapters).style.hide(axis="index")

# %% tags=["nbval-check-output"]
missing = int((table["verdict"] == "no results file").sum() + (questions["verdict"] == "no results file").sum())
ch.close(
    {f"{r['version']} {v}": int(r[v]) for r in tally.to_dict(orient="records") for v in claims.VERDICTS},
    details={"chapters": chapters}, device="none",
    summary=[f"paper claims in the table: {len(table)}", f"questions this book adds: {len(questions)}",
             f"chapters without a results file: {missing}"],
)
