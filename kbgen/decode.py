"""Bytes to text: saved pages come in every encoding a browser or editor writes.

Order matters: a BOM is the file's own statement, so it wins; then strict
UTF-8 (by far the most common, and it almost never decodes non-UTF-8 text by
accident); then Windows-1252, which every byte except five decodes, and
Latin-1 for those five.
"""

from __future__ import annotations

import codecs

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
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")
