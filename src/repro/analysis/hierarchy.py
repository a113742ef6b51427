"""Readings of Figure 7's runs (:class:`~repro.experiments.hierarchy.HierarchyRun`, one per dataset): which fine
classes each coarse group holds, the early stage's contrast between same-group and different-group pairs, and the
chapter's headline numbers and regression lines."""

from __future__ import annotations

from collections.abc import Sequence

from repro.analysis.class_stiffness import describe_run, run_details
from repro.experiments.hierarchy import HierarchyRun
from repro.stiffness import HierarchyContrast
from repro.training import stage_label

__all__ = ["EARLY", "early_contrast", "describe_hierarchy", "contrast_sentence", "hierarchy_headline",
           "hierarchy_details", "hierarchy_summary"]  # fmt: skip

EARLY = 1  # index of the "early in training" stage snapshot, the one Figure 7 shows


def early_contrast(h: HierarchyRun, metric: str = "sign") -> HierarchyContrast:
    """The contrast of ``h``'s early stage (:data:`EARLY`) for ``metric``."""
    return h.contrasts[EARLY][metric]


def describe_hierarchy(h: HierarchyRun) -> str:
    """Markdown: what the run used and which fine classes each coarse group holds."""
    groups = "; ".join(
        f"*{name}*: " + ", ".join(h.run.class_names[i] for i, g in enumerate(h.coarse_of_fine) if g == k)
        for k, name in enumerate(h.coarse_names)
    )
    return describe_run(h.run) + f"  \n**Hierarchy ({len(h.coarse_names)} groups).** {groups}"


def contrast_sentence(hruns: Sequence[HierarchyRun]) -> str:
    """Markdown: per dataset, same-group and different-group stiffness early in training, their contrast with its
    interval and the permutation p-value."""
    parts = []
    for h in hruns:
        c = early_contrast(h)
        parts.append(
            f"**{h.run.config.dataset}** early ({stage_label(h.run.snapshots[EARLY].images_seen)}): same-group "
            f"{c.same_coarse:+.3f}, different groups {c.diff_coarse:+.3f}, contrast {c.contrast:+.3f} "
            f"[{c.contrast_ci[0]:+.3f}, {c.contrast_ci[1]:+.3f}], p = {c.p_value:.3f}."
        )
    return " ".join(parts)


def hierarchy_headline(hruns: Sequence[HierarchyRun]) -> dict[str, object]:
    """Per dataset: the early contrast, its interval and its p-value, for the results file."""
    headline: dict[str, object] = {}
    for h in hruns:
        c, name = early_contrast(h), h.run.config.dataset
        headline |= {
            f"{name}_contrast": c.contrast,
            f"{name}_contrast_ci": list(c.contrast_ci),
            f"{name}_p_value": c.p_value,
        }
    return headline


def hierarchy_details(hruns: Sequence[HierarchyRun]) -> dict[str, object]:
    """What the results file records about the runs besides the headline."""
    return {"runs": [run_details(h.run) | {"hierarchy": list(h.coarse_names)} for h in hruns]}


def hierarchy_summary(hruns: Sequence[HierarchyRun]) -> list[str]:
    """The rounded lines the chapter's regression cell prints."""
    return [
        f"{h.run.config.dataset}: contrast {c.contrast:+.1f}, interval above 0 {c.contrast_ci[0] > 0}"
        for h, c in ((h, early_contrast(h)) for h in hruns)
    ]
