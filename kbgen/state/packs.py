"""How the state packs what takes room: merge bases, and what each source gives the notes.

Both are kept compressed with zlib. A merge base is a note's whole text, compressed alone:
it is read only to merge a note the user edited. What a source gives the notes
(`Contribution`: its mentions, data and lines for each note) is packed per source, all its
notes in one compressed pack: one call to zlib per source parsed (compressing each of a cold
build's 558,000 contributions alone cost 50–100 µs apiece, most of it zlib setting itself
up), and a source's contributions repeat themselves: a sentence naming four entities is a line
of each of their mention pages, and the data of its entities name each other. At 10,000
articles the packs hold 250 MB in 40.

A pack unpacked is a header (the notes, in order, with their mentions and the sizes of their
lines and data), then every note's lines, then every note's data. The lines come before the
data so that a note's lines are read by unpacking the pack only up to their end (`lines_in`),
and each note's row in `contrib` says where they are.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # a build the snapshot answers never loads the data model
    from kbgen.core.model import Contribution

TEXT_LEVEL = 1  # zlib's level for merge bases: 25% of their size at 118 MB/s (6: 23% at 57)
PACK_LEVEL = 2  # and for packs, made as sources are parsed: 17% at 170 MB/s (6: 15% at 78)
SHORT_DATA = 64  # bytes of data kept in a note's row too: an author note reads its sources'

_HEADER = struct.Struct("<I")  # the header's length, in front of it

Row = tuple[str, int, bytes, str]  # note, mentions, data, lines: a contribution


class Feed(NamedTuple):
    """A row of the `contrib` table: what one source gives one note, as the note reads it."""

    note: str
    said: int  # 1 when the source gives the note lines
    source: str
    mentions: int
    at: int  # where the note's lines start in the source's pack, unpacked
    size: int  # their length, in bytes (UTF-8)
    data: bytes | None  # the data, when short (`SHORT_DATA`); else only in the pack


def pack_text(text: bytes) -> bytes:
    return zlib.compress(text, TEXT_LEVEL)


def unpack_text(packed: bytes) -> str:
    return zlib.decompress(packed).decode("utf-8")


def pack(source: str, rows: Iterable[Row]) -> tuple[bytes, list[Feed]]:
    """A source's contributions packed, and the `contrib` rows that find them (by note)."""
    ordered = sorted(rows)
    lines = [r[3].encode("utf-8") for r in ordered]
    header = _header(ordered, lines)
    packed = zlib.compress(b"".join([header, *lines, *(r[2] for r in ordered)]), PACK_LEVEL)
    return packed, _feeds(source, ordered, lines, len(header))


def feeds_of(source: str, rows: Iterable[Row]) -> list[Feed]:
    """The `contrib` rows of a source's contributions, as `pack` makes them, without packing."""
    ordered = sorted(rows)
    lines = [r[3].encode("utf-8") for r in ordered]
    return _feeds(source, ordered, lines, len(_header(ordered, lines)))


def _header(rows: list[Row], lines: list[bytes]) -> bytes:
    notes = [[r[0], r[1], len(b), len(r[2])] for r, b in zip(rows, lines, strict=True)]
    text = json.dumps(notes, separators=(",", ":")).encode("utf-8")
    return _HEADER.pack(len(text)) + text


def _feeds(source: str, rows: list[Row], lines: list[bytes], at: int) -> list[Feed]:
    out = []
    for (note, mentions, data, _), said in zip(rows, lines, strict=True):
        short = data if len(data) <= SHORT_DATA else None
        out.append(Feed(note, int(bool(said)), source, mentions, at, len(said), short))
        at += len(said)
    return out


def unpack(packed: bytes) -> dict[str, Contribution]:
    """Every contribution of a pack, by note."""
    from kbgen.core.model import Contribution

    raw = zlib.decompress(packed)
    (length,) = _HEADER.unpack_from(raw)
    notes = json.loads(raw[_HEADER.size : _HEADER.size + length])
    at = _HEADER.size + length
    data_at = at + sum(n[2] for n in notes)
    out = {}
    for note, mentions, size, data_size in notes:
        lines = raw[at : at + size].decode("utf-8")
        out[note] = Contribution(note, mentions, lines, raw[data_at : data_at + data_size])
        at += size
        data_at += data_size
    return out


def notes_in(packed: bytes) -> list[tuple[str, int]]:
    """The notes a pack gives something, each with 1 when it gives it lines (as `Feed.said`):
    its header alone unpacked."""
    unpacking = zlib.decompressobj()
    (length,) = _HEADER.unpack(_first(unpacking, packed, _HEADER.size))
    notes = json.loads(_first(unpacking, unpacking.unconsumed_tail, length))
    return [(n[0], int(n[2] > 0)) for n in notes]


def _first(unpacking: Any, packed: bytes, size: int) -> bytes:
    """The next `size` bytes a pack unpacks to (zlib may give them in more than one go)."""
    parts, left = [], size
    while left > 0:
        part = unpacking.decompress(packed, left)
        if not part:
            raise zlib.error("truncated pack")
        parts.append(part)
        left -= len(part)
        packed = unpacking.unconsumed_tail
    return b"".join(parts)


def lines_in(packed: bytes, at: int, size: int) -> str:
    """One note's lines, unpacking the pack only as far as their end."""
    raw = _first(zlib.decompressobj(), packed, at + size)
    return raw[at:].decode("utf-8")
