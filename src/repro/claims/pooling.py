"""Pooling one claim's checks over seeds: each seed's network is judged by the same checks, and the claim is judged
once, on parts decided from all seeds together (so that one seed's passing check does not carry the verdict)."""

from __future__ import annotations

from collections.abc import Sequence

from repro.claims.verdicts import CONTRADICTED, HOLDS, UNDECIDED, Check

__all__ = ["pool_seeds"]


def pool_seeds(checks_per_seed: Sequence[Sequence[Check]], seeds: Sequence[int]) -> list[Check]:
    """One list of checks for a claim judged on several seeds (``checks_per_seed[k]``: seed ``seeds[k]``'s checks).

    A seed whose preconditions all hold is *observable*. The pooled precondition holds when at least one seed is
    observable (its evidence names which). Each part (matched by its claim text, in first-seen order) is decided over
    the observable seeds that have it: it **holds** when it holds in every one of them, is **contradicted** when it
    is contradicted in every one, and is **undecided** otherwise (the seeds disagree, or a seed cannot tell). The
    evidence lists every observable seed's outcome and numbers. When no seed is observable only the pooled
    precondition is returned (the claim could not be observed).
    """
    if len(checks_per_seed) != len(seeds):
        raise ValueError(f"{len(checks_per_seed)} lists of checks for {len(seeds)} seeds")
    if not seeds:
        raise ValueError("pooling needs at least one seed")
    observable = [
        (seed, checks)
        for seed, checks in zip(seeds, checks_per_seed, strict=True)
        if all(c.passed for c in checks if c.precondition)
    ]
    preconditions = {c.claim: None for checks in checks_per_seed for c in checks if c.precondition}
    pooled = []
    if preconditions:
        shown = ", ".join(str(s) for s, _ in observable) or "none"
        pooled.append(
            Check(
                f"{'; '.join(preconditions)} — in at least one seed",
                bool(observable),
                f"observable in {len(observable)} of {len(seeds)} seeds (seeds: {shown})",
                precondition=True,
            )
        )
    if not observable:
        return pooled
    parts: dict[str, list[tuple[int, Check]]] = {}
    for seed, checks in observable:
        for c in checks:
            if not c.precondition:
                parts.setdefault(c.claim, []).append((seed, c))
    for claim, per_seed in parts.items():
        outcomes = {c.outcome for _, c in per_seed}
        outcome = outcomes.pop() if len(outcomes) == 1 and outcomes <= {HOLDS, CONTRADICTED} else UNDECIDED
        evidence = "; ".join(f"seed {s} {c.outcome}: {c.evidence}" for s, c in per_seed)
        pooled.append(Check.decided(claim, outcome, evidence))
    return pooled
