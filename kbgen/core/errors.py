"""Errors a user can act on: each names the file and says what is wrong with it."""

from __future__ import annotations


class KbgenError(Exception):
    """A failure that stops the whole command (bad config, unwritable vault)."""


class SourceError(Exception):
    """One source cannot be built; the build goes on with every other source."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason

    def __reduce__(self) -> tuple[type[SourceError], tuple[str, str]]:
        """Rebuilt from both its fields: a worker process sends it to the build by pickle, and
        the default (the message alone) cannot call this `__init__` back."""
        return (type(self), (self.path, self.reason))
