"""How the state packs what takes room: merge bases, and what each source gives the notes.

Both are kept compressed with zlib. A merge base is a note's whole text, compressed alone:
it is read only to merge a note the user edited.

What a source gives the notes (`Contribution`: mentions, data and lines for each note) is
packed per source: one zlib stream per source parsed (compressing each of a cold build's
558,000 contributions alone cost 50–100 µs apiece, most of it zlib setting itself up), and a
source's contributions repeat themselves: a sentence naming four entities is a line of each of
their mention pages, and the data of its entities name each other (at 10,000 articles: 250
MB of lines and data in 63). The stream is cut in parts of about `PART` bytes of lines,
each part a row of its own that unpacks alone (zlib's full flush: the next part refers to
nothing before it), because notes read lines by note: a month of Russia reads 300 sources'
lines, and unpacking each source's stream as far as the note's lines took 60 µs a source,
its part takes 20 (reading the row as schema 3 stored it, uncompressed: 6).

The stream unpacked is every note's lines, in note order, then every note's data, then a
header (the notes with their mentions and the sizes of their lines and data) and the header's
length. `contrib` says, for each note, in which part its lines are and where.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # a build the snapshot answers never loads the data model
    from kbgen.core.model import Contribution

TEXT_LEVEL = 1  # zlib's level for merge bases: 25% of their size at 118 MB/s (6: 23% at 57)
PACK_LEVEL = 2  # and for packs, made as sources are parsed: 23% at 70 MB/s
PART = 8192  # bytes of lines a part of a pack holds, at least (but for the last)
SHORT_DATA = 64  # bytes of data kept in a note's row too: an author note reads its sources'

_LENGTH = struct.Struct("<I")  # the header's length, after it

Row = tuple[str, int, bytes, str]  # note, mentions, data, lines: a contribution


class Feed(NamedTuple):
    """A row of the `contrib` table: what one source gives one note, as the note reads it."""

    note: str
    said: int  # 1 when the source gives the note lines
    source: str
    mentions: int
    part: int  # the part of the source's pack its lines are in
    at: int  # where they start in that part, unpacked
    size: int  # their length, in bytes (UTF-8)
    data: bytes | None  # the data, when short (`SHORT_DATA`); else only in the pack


def pack_text(text: bytes) -> bytes:
    return zlib.compress(text, TEXT_LEVEL)


def unpack_text(packed: bytes) -> str:
    return zlib.decompress(packed).decode("utf-8")


def pack(source: str, rows: Iterable[Row]) -> tuple[list[bytes], list[Feed]]:
    """A source's contributions packed, in parts, and the `contrib` rows that find them."""
    ordered = sorted(rows)
    packing = zlib.compressobj(PACK_LEVEL, zlib.DEFLATED, -15)
    parts: list[bytes] = []
    part: list[bytes] = []
    feeds, at = [], 0
    for note, mentions, data, text in ordered:
        lines = text.encode("utf-8")
        if at >= PART and lines:  # the part so far ends here: it unpacks alone
            parts.append(b"".join([*part, packing.flush(zlib.Z_FULL_FLUSH)]))
            part, at = [], 0
        short = data if len(data) <= SHORT_DATA else None
        feeds.append(
            Feed(note, int(bool(lines)), source, mentions, len(parts), at, len(lines), short)
        )
        part.append(packing.compress(lines))
        at += len(lines)
    header = json.dumps(
        [[f.note, f.mentions, f.size, len(r[2])] for f, r in zip(feeds, ordered, strict=True)]
    )
    tail = b"".join([*(r[2] for r in ordered), header.encode("utf-8")])
    part += [packing.compress(tail + _LENGTH.pack(len(header.encode("utf-8")))), packing.flush()]
    parts.append(b"".join(part))
    return parts, feeds


def unpack(parts: Iterable[bytes]) -> dict[str, Contribution]:
    """Every contribution of a pack (its parts in order), by note."""
    from kbgen.core.model import Contribution

    raw = zlib.decompress(b"".join(parts), -15)
    (length,) = _LENGTH.unpack_from(raw, len(raw) - _LENGTH.size)
    notes = json.loads(raw[len(raw) - _LENGTH.size - length : len(raw) - _LENGTH.size])
    at, data_at = 0, sum(n[2] for n in notes)
    out = {}
    for note, mentions, size, data_size in notes:
        lines = raw[at : at + size].decode("utf-8")
        out[note] = Contribution(note, mentions, lines, raw[data_at : data_at + data_size])
        at += size
        data_at += data_size
    return out


def lines_in(part: bytes, at: int, size: int) -> str:
    """One note's lines, from the part of the pack they are in."""
    unpacking = zlib.decompressobj(-15)
    raw = unpacking.decompress(part, at + size)
    while len(raw) < at + size:  # (zlib may give less at a time than asked)
        more = unpacking.decompress(unpacking.unconsumed_tail, at + size - len(raw))
        if not more:
            raise zlib.error("truncated pack")
        raw += more
    return raw[at : at + size].decode("utf-8")
