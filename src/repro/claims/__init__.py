"""The paper's claims, each turned into checks on measured numbers, and the one rule that turns checks into a verdict.

- :mod:`~repro.claims.verdicts` — :class:`Check` (a part of a claim: holds, contradicted or undecided) and the book's
  verdict rule :data:`VERDICT_RULE` (no verdict is typed by hand);
- :mod:`~repro.claims.pooling` — one claim's checks pooled over seeds (:func:`pool_seeds`), and the interval for
  the mean over seeds of each seed's estimate (:func:`seed_interval`, :func:`interval_over`);
- one module per claim, with its thresholds: :mod:`~repro.claims.class_membership` (Figures 3, 5, 6),
  :mod:`~repro.claims.overfitting` (Figure 2), :mod:`~repro.claims.random_labels` (Figure 4),
  :mod:`~repro.claims.hierarchy` (Figure 7), :mod:`~repro.claims.learning_rate` (Figures 8, 10, the critical length;
  also the direction rule :func:`lr_trend`), :mod:`~repro.claims.distance` (Figure 9, spherical harmonics),
  :mod:`~repro.claims.initialisation` (the set-up chapter), :mod:`~repro.claims.convergence` (the definition
  chapter's first-order convergence, :func:`convergence_check`);
- :mod:`~repro.claims.summary` — what the paper states per chapter and version, the questions the book adds, and the
  summary tables and tally of the claims page.

Every name is also available here (``from repro import claims; claims.class_membership_checks(...)``).
"""

from repro.claims.class_membership import NEAR_ZERO, class_membership_checks, class_membership_rule
from repro.claims.convergence import (
    MAX_GRAM_GAP,
    MAX_RELATIVE_ERROR,
    MIN_ORDER,
    convergence_check,
    convergence_order,
    definition_checks,
    definition_rule,
)
from repro.claims.distance import MIN_RESOLVED_DEGREES, distance_checks, harmonics_checks, harmonics_resolved
from repro.claims.hierarchy import hierarchy_checks
from repro.claims.initialisation import (
    COMPARED_CHECKS,
    POSITIVE_SHARE_RANGE,
    checks_by_init,
    init_consistency,
    init_consistency_rule,
    init_dependence,
)
from repro.claims.learning_rate import (
    TRAINED_RULE,
    V1_READING,
    V3_READING,
    VersionReading,
    domain_growth_checks,
    lr_trend,
    split_trained,
    stop_label,
    trained_accuracy,
    trend_checks,
    version_checks,
    xi_and_size,
)
from repro.claims.overfitting import (
    COLLAPSE_DROP,
    collapse_finding,
    overfitting_checks,
    overfitting_onset,
    textbook_collapse_checks,
)
from repro.claims.pooling import interval_over, pool_seeds, seed_interval
from repro.claims.random_labels import (
    CHANCE_TOLERANCE,
    MAX_POSITIVE_SHARE,
    UNIFORM_FRACTION,
    memorised,
    random_label_checks,
    random_label_reading,
    random_label_regime,
)
from repro.claims.summary import (
    BOOK_QUESTIONS,
    PAPER_STATEMENTS,
    PAPER_VERSIONS,
    VERSIONS,
    ChapterRecord,
    checks_long_table,
    claims_table,
    questions_table,
    tally,
)
from repro.claims.verdicts import (
    CONTRADICTED,
    HOLDS,
    INCONCLUSIVE,
    OUTCOMES,
    UNDECIDED,
    VERDICT_RULE,
    VERDICTS,
    Check,
    check_above,
    check_below,
    check_inside,
    check_separated,
    checks_table,
    decide,
    describe_parts,
    outcome_counts,
    verdict,
)

__all__ = [
    "BOOK_QUESTIONS",
    "CHANCE_TOLERANCE",
    "COLLAPSE_DROP",
    "COMPARED_CHECKS",
    "CONTRADICTED",
    "HOLDS",
    "INCONCLUSIVE",
    "MAX_GRAM_GAP",
    "MAX_RELATIVE_ERROR",
    "MIN_ORDER",
    "MIN_RESOLVED_DEGREES",
    "NEAR_ZERO",
    "OUTCOMES",
    "PAPER_STATEMENTS",
    "PAPER_VERSIONS",
    "POSITIVE_SHARE_RANGE",
    "UNDECIDED",
    "UNIFORM_FRACTION",
    "VERDICTS",
    "VERDICT_RULE",
    "VERSIONS",
    "V1_READING",
    "V3_READING",
    "ChapterRecord",
    "Check",
    "check_above",
    "check_below",
    "check_inside",
    "check_separated",
    "checks_by_init",
    "checks_long_table",
    "checks_table",
    "claims_table",
    "class_membership_checks",
    "class_membership_rule",
    "collapse_finding",
    "convergence_check",
    "convergence_order",
    "decide",
    "definition_checks",
    "definition_rule",
    "describe_parts",
    "distance_checks",
    "domain_growth_checks",
    "harmonics_checks",
    "harmonics_resolved",
    "hierarchy_checks",
    "init_consistency",
    "init_consistency_rule",
    "init_dependence",
    "interval_over",
    "lr_trend",
    "memorised",
    "outcome_counts",
    "overfitting_checks",
    "overfitting_onset",
    "pool_seeds",
    "questions_table",
    "random_label_checks",
    "MAX_POSITIVE_SHARE",
    "random_label_reading",
    "random_label_regime",
    "seed_interval",
    "split_trained",
    "stop_label",
    "tally",
    "textbook_collapse_checks",
    "TRAINED_RULE",
    "trained_accuracy",
    "trend_checks",
    "verdict",
    "version_checks",
    "VersionReading",
    "xi_and_size",
]
