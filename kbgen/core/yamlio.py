"""YAML in and out, at libyaml's speed when PyYAML was built with it.

Parsing the catalog and every note's frontmatter is on the path of every
build; the C loader is about ten times faster than the pure-Python one and
gives the same values for the YAML kbgen and Obsidian write.
"""

from __future__ import annotations

from typing import Any

import yaml

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

YAMLError = yaml.YAMLError


def load(text: str) -> Any:
    """`yaml.safe_load`, with the C loader when there is one."""
    return yaml.load(text, Loader=_Loader)
