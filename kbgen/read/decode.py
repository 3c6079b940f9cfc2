"""Bytes to text: saved pages come in every encoding a browser or editor writes.

Order matters: a BOM is the file's own statement, so it wins; then strict
UTF-8 (by far the most common, and it almost never decodes non-UTF-8 text by
accident); then Windows-1252, which decodes every byte but five (shown as
U+FFFD). Bytes that decode mostly into control characters are binary.
"""

from __future__ import annotations

import codecs
import re

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class NotText(ValueError):
    """The bytes are not a text document (binary, or undecodable)."""


def decode(data: bytes) -> str:
    """Decode a source file's bytes; raise NotText with a reason a user understands."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise NotText(
                    f"starts with a {encoding} byte-order mark but is not {encoding}"
                ) from exc
    if b"\x00" in data:  # anywhere: kbgen's rendering relies on text never holding one
        raise NotText("binary file (contains NUL bytes)")
    try:
        return _text(data.decode("utf-8"), "as UTF-8")
    except UnicodeDecodeError:
        pass
    # The five bytes Windows-1252 leaves undefined become U+FFFD: decoding the whole file as
    # Latin-1 instead would turn every curly quote into an invisible control character.
    return _text(data.decode("cp1252", errors="replace"), "not UTF-8, and as Windows-1252")


_CONTROL = re.compile(r"[\x01-\x08\x0e-\x1f\x7f-\x9f\ufffd]")
_MOST_CONTROL = 0.01  # real text, even a PDF dump full of form feeds, stays far below this


def _text(text: str, read_as: str) -> str:
    """`text`, unless it is mostly control characters: binary that happens to decode."""
    sample = text[:65536]
    controls = len(_CONTROL.findall(sample))
    if sample and controls > _MOST_CONTROL * len(sample):
        share = 100 * controls / len(sample)
        raise NotText(f"not text: {read_as} it is {share:.0f}% control characters (binary?)")
    return text
