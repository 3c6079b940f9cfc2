"""Counts in the words a reader expects: "1 mention in 1 source", "3 mentions in 2 sources"."""

from __future__ import annotations


def counted(n: int, noun: str) -> str:
    """`n` and `noun`, made plural with an "s" unless `n` is 1 (every noun kbgen counts takes
    one). Imports nothing: the summary of a build the snapshot answers uses it."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
