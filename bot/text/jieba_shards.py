"""jieba's dictionary in shards by first two characters, for loading only what text needs.

jieba cuts a text by looking up, from each position, the text's next character, then
the next two, three… while the dictionary holds them as words or as prefixes of words
(``Tokenizer.get_DAG``), and then scores the words found (``calc``). Every lookup of
two characters or more at a position begins with the same two characters. So the
one-character entries, plus the entries beginning with each pair of adjacent
characters the text holds, answer every lookup of its cut exactly as the whole
dictionary does, provided the total frequency (``Tokenizer.total``, every path's
denominator) is the whole dictionary's. The sample flows and knowledge base meet
about 1,800 of the dictionary's 178,000 pairs: a process starts with 12,000
one-character entries and 18,000 others instead of 500,000.

The shards come from jieba's own ``gen_pfdict`` over its ``dict.txt`` (what
``Tokenizer.initialize`` computes): the one-character entries, then each pair's
entries stored with ``marshal``, behind an index; the file is built once and cached
(``bot.text.tables``). Read back, a shard is one ``pread`` and one ``marshal.loads``.
"""

from __future__ import annotations

import array
import contextlib
import itertools
import marshal
import os
import struct
import tempfile
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import IO

from bot.text import tables as cache

SHARDS_VERSION = 3
_HEADER = struct.Struct("<Q")  # the index's length, before the index
Entries = dict[str, int]  # a word, or a prefix of one (frequency 0), and its frequency
Parser = Callable[[IO[bytes]], tuple[Entries, int]]


def build(dictionary: Path, parse: Parser) -> bytes:
    """The shard file of ``dictionary`` (jieba's format: ``word freq [tag]`` lines), as
    ``parse`` (jieba's own ``Tokenizer.gen_pfdict``) reads it: its entries and total."""
    with dictionary.open("rb") as lines:
        entries, total = parse(lines)
    singles = {word: count for word, count in entries.items() if len(word) == 1}
    by_pair: dict[str, Entries] = {}
    for word, count in entries.items():
        if len(word) > 1:
            by_pair.setdefault(word[:2], {})[word] = count
    pairs = sorted(by_pair)  # grouped by first character
    blobs = [marshal.dumps(by_pair[pair]) for pair in pairs]
    ends = array.array("q", itertools.accumulate(len(blob) for blob in blobs))
    # The index as strings and arrays, not a dict of 178,000 pairs: a handful of
    # objects to read back. Per first character (``firsts``), how many pairs it
    # begins (``counts``); their second characters, in order, make ``seconds``.
    firsts = "".join(dict.fromkeys(pair[0] for pair in pairs))
    by_first = itertools.groupby(pairs, key=lambda pair: pair[0])
    counts = array.array("q", (sum(1 for _ in group) for _, group in by_first))
    seconds = "".join(pair[1] for pair in pairs)
    index = (SHARDS_VERSION, total, singles, firsts, counts.tobytes(), seconds, ends.tobytes())
    header = marshal.dumps(index)
    return _HEADER.pack(len(header)) + header + b"".join(blobs)


class ShardedDictionary:
    """An open shard file: the dictionary's total frequency, its one-character entries
    and, by its first two characters, each longer entry."""

    def __init__(self, fd: int) -> None:
        """Read the index of the shard file open as ``fd``, which is closed with this object."""
        self._fd = fd
        weakref.finalize(self, os.close, fd)  # a raw descriptor: no ResourceWarning, closed all the same
        (header_size,) = _HEADER.unpack(os.pread(fd, _HEADER.size, 0))
        if header_size > os.fstat(fd).st_size:
            raise ValueError("shard file with a damaged header")
        version, total, singles, firsts, counts_bytes, seconds, ends_bytes = marshal.loads(
            os.pread(fd, header_size, _HEADER.size)
        )
        if version != SHARDS_VERSION:
            raise ValueError(f"shard file version {version}, expected {SHARDS_VERSION}")
        counts, self._ends = array.array("q"), array.array("q")
        counts.frombytes(counts_bytes)
        self._ends.frombytes(ends_bytes)
        self.total: int = total
        self._singles: Entries = singles
        # First character -> the second characters of its pairs, and its first pair's number.
        self._seconds: dict[str, str] = {}
        self._first_pair: dict[str, int] = {}
        start = 0
        for first, count in zip(firsts, counts, strict=True):
            self._seconds[first] = seconds[start : start + count]
            self._first_pair[first] = start
            start += count
        self._base = _HEADER.size + header_size
        if start != len(self._ends) or os.fstat(fd).st_size != self._base + (self._ends[-1] if start else 0):
            raise ValueError("shard file of the wrong size")  # cut short: a disk that filled up

    @classmethod
    def open(cls, dictionary: Path, parse: Parser) -> ShardedDictionary:
        """The shards of ``dictionary``: from the cache, else built (about 2 s) and kept."""
        path = cache.cached_path("jieba", [dictionary], SHARDS_VERSION)
        if path is not None:
            with contextlib.suppress(OSError, EOFError, ValueError, TypeError, OverflowError, struct.error):
                return cls(os.open(path, os.O_RDONLY | os.O_CLOEXEC))
        data = build(dictionary, parse)
        if path is not None:
            cache.write_atomically(path, data)
        # Read from a file either way: what is not loaded stays on disk, not in memory.
        fd, name = tempfile.mkstemp(prefix="voicebot-jieba-")
        os.unlink(name)
        with os.fdopen(fd, "wb", closefd=False) as unnamed:
            unnamed.write(data)
        return cls(fd)

    def singles(self) -> Entries:
        """Every one-character entry (a new dict)."""
        return dict(self._singles)

    def pairs(self) -> dict[str, str]:
        """Every pair that begins a longer entry: first character -> its pairs' second
        characters (a new dict)."""
        return dict(self._seconds)

    def shard(self, pair: str) -> Entries:
        """The entries of two characters or more that begin with ``pair`` (words and their
        prefixes; a prefix that is no word has frequency 0); empty when none does."""
        if len(pair) != 2:  # a pair: two characters
            return {}
        position = self._seconds.get(pair[0], "").find(pair[1])
        if position < 0:
            return {}
        number = self._first_pair[pair[0]] + position
        start = self._ends[number - 1] if number else 0
        data = os.pread(self._fd, self._ends[number] - start, self._base + start)  # no shared file position
        entries: Entries = marshal.loads(data)
        return entries
