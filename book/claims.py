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
# Every chapter ends with a "Paper vs this reproduction" section: the paper's claim in our words, a rule stated
# before the numbers, checks computed from the measurements, and a verdict by one rule for the whole book — all
# checks of the claim hold: *reproduced*; some: *partly reproduced*; none, or a failed precondition (such as "the
# network overfits", without which the claim cannot be observed): *not reproduced*. Each chapter writes what it
# found to a results file; this page reads them all back. Nothing on it is typed by hand.

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
# the set-up chapter tests no claim of the paper (it measures what depends on our choice of initialisation)
chapters = [c.name for c in read_toc(find_toc()) if c.name not in ("intro", "setup", "claims")]
found = load_records(profile)

# %% [markdown]
# ## The table
#
# One row per chapter, in the book's order: where the claim is in the paper, what it says, how many of the
# chapter's checks of the claim held (preconditions, such as "the network overfits", are not counted: a failed one
# makes the verdict *not reproduced*), the verdict, and the profile, device and time of the run that produced it.

# %%
table = claims.claims_table(found, chapters)
display(Markdown(f"Results read from `{display_path(results_dir() / profile)}`: {len(found)} results files."))
table.style.hide(axis="index")

# %% [markdown]
# ## The numbers behind each verdict
#
# Every check of every chapter, with the measurements it compared (bootstrap intervals over validation images
# unless the check says otherwise):

# %%
claims.checks_long_table(found, chapters).style.hide(axis="index")

# %%
counts = table["verdict"].value_counts()
display(Markdown(
    "**Tally.** " + ", ".join(f"{counts.get(v, 0)} {v}" for v in
                              (*claims.VERDICTS, "no results file"))
    + f" — of {len(chapters)} chapters, profile *{profile}*."
))

# %% tags=["nbval-check-output"]
ch.close(
    {v: int(counts.get(v, 0)) for v in claims.VERDICTS}, details={"chapters": chapters}, device="none",
    summary=[f"chapters in the table: {len(table)}",
             f"chapters without a results file: {int(counts.get('no results file', 0))}"],
)
