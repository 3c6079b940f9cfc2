"""Counts in the words a reader expects: "1 mention in 1 source", "3 mentions in 2 sources"."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and `noun`, or its `plural` (`noun` + "s" unless given) when `n` is not 1.
    Imports nothing: the summary of a build the snapshot answers uses it."""
    return f"{n} {noun}" if n == 1 else f"{n} {plural or noun + 's'}"
