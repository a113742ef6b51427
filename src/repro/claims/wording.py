"""How a rule's prose writes the numbers of its thresholds, so that the text is formatted from the constants the
checks use and reads as typed prose did: small counts as words, signed numbers with a typographic minus."""

from __future__ import annotations

__all__ = ["count_word", "number"]

_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def count_word(n: int) -> str:
    """``3`` → ``"three"`` (zero to ten; larger counts as digits)."""
    if n < 0 or int(n) != n:
        raise ValueError(f"a count is a non-negative integer, got {n!r}")
    return _WORDS[int(n)] if n < len(_WORDS) else f"{int(n):,}"


def number(x: float, *, sign: bool = False) -> str:
    """``x`` in the shortest form (``:g``) with a typographic minus (``−0.5``), and a ``+`` on positive values when
    ``sign`` (``+0.5``)."""
    return f"{x:{'+' if sign else ''}g}".replace("-", "−")
