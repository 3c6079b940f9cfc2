"""kbgen writes frontmatter itself (PyYAML's emitter was a quarter of a cold build): it must
read back as exactly the values written, with PyYAML's pure and C loaders alike."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kbgen.core.markdown import frontmatter, yaml_entry

LOADERS = [yaml.SafeLoader, *([yaml.CSafeLoader] if yaml.__with_libyaml__ else [])]


def _load(text: str, loader: type) -> dict[str, object]:
    assert text.startswith("---\n") and text.endswith("---\n")
    data = yaml.load(text[4:-4], Loader=loader)
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("loader", LOADERS)
@settings(max_examples=1500, deadline=None)
@given(title=st.text(min_size=1), items=st.lists(st.text(min_size=1), min_size=1, max_size=4))
def test_any_string_round_trips(loader: type, title: str, items: list[str]) -> None:
    fields = {"title": title, "aliases": items, "mentions": 3, "ok": True}
    assert _load(frontmatter(fields), loader) == fields


@pytest.mark.parametrize(
    "title",
    [
        "1984",
        "yes",
        "No",
        "null",
        "~",
        "a: b",
        "- x",
        "#tag",
        "[[Russia]]",
        "it's",
        "---\nkey: v",
        'Title: with "quotes" #1 | [x] ^y %%',
        " lead",
        "trail ",
        "3.14",
        "0x1F",
        "2017-02-01",
        "CON",
        "e.g. this",
        "\u2028",
        "\x7f",
        "tab\tinside",
    ],
)
def test_hostile_titles_round_trip(title: str) -> None:
    for loader in LOADERS:
        assert _load(frontmatter({"title": title}), loader) == {"title": title}


def test_dates_numbers_and_other_values() -> None:
    fields = {"published": dt.date(2017, 2, 1), "nested": {"a": [1, {"b": 2}]}, "n": -4}
    assert _load(frontmatter(fields), yaml.SafeLoader) == fields
    assert yaml_entry("aliases", ["x", "y"]) == "aliases:\n  - x\n  - 'y'\n"
