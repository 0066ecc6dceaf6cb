"""pypinyin's dictionaries, the same data in a fifth of the memory and time.

pypinyin reads two JSON files when it is imported (``pinyin_dict``: a reading per
character; ``phrases_dict``: 47,000 words read as words, 银行 yin hang). JSON makes a
new string for every syllable and a new list around each one: about 600,000 objects,
55 MB and a quarter of a second, in every process. The same data with each syllable
string and each ``[syllable]`` list made once and shared is about 8 MB, and reads back
from its cache (``bot.text.tables``) in a few hundredths of a second.

``install()`` (run when ``bot.text`` is imported) puts an import hook in front of
pypinyin's two data modules: when pypinyin imports them, they hold these tables
instead. pypinyin only ever reads them (a phrase's readings are deep-copied before they
are styled), so sharing the lists changes no result; ``tests/text/test_tables.py``
checks that the tables equal pypinyin's JSON. Imported before the hook (another
program, a test importing pypinyin first), pypinyin loads its own files as usual.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import json
import logging
import os
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

from bot.text import tables as cache

logger = logging.getLogger(__name__)

TABLES_VERSION = 1
SINGLE_MODULE = "pypinyin.pinyin_dict"
PHRASES_MODULE = "pypinyin.phrases_dict"
Readings = list[list[str]]
Tables = tuple[dict[int, str], dict[str, Readings]]

_lock = threading.Lock()
_loaded: list[Tables] = []  # this process's, once read


def data_files() -> tuple[Path, Path]:
    """pypinyin's JSON files, found without importing pypinyin (which would read them)."""
    spec = importlib.util.find_spec("pypinyin")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("pypinyin is not installed")
    package = Path(next(iter(spec.submodule_search_locations)))
    return package / "pinyin_dict.json", package / "phrases_dict.json"


def build() -> Tables:
    """pypinyin's two tables from its JSON, every equal string and list made once."""
    single_path, phrases_path = data_files()
    strings: dict[str, str] = {}
    lists: dict[tuple[str, ...], list[str]] = {}
    outers: dict[tuple[int, ...], Readings] = {}

    def shared_list(syllables: list[str]) -> list[str]:
        key = tuple(strings.setdefault(s, s) for s in syllables)
        return lists.setdefault(key, list(key))

    def shared_readings(readings: Readings) -> Readings:
        items = [shared_list(syllables) for syllables in readings]
        return outers.setdefault(tuple(map(id, items)), items)

    single_json: dict[str, str] = json.loads(single_path.read_text(encoding="utf-8"))
    phrases_json: dict[str, Readings] = json.loads(phrases_path.read_text(encoding="utf-8"))
    # pypinyin keys its characters by code point (int(key) of the JSON's decimal keys).
    single = {int(code): strings.setdefault(reading, reading) for code, reading in single_json.items()}
    phrases = {phrase: shared_readings(readings) for phrase, readings in phrases_json.items()}
    return single, phrases


def tables() -> Tables:
    """The tables of this process: read from the cache (built and kept the first time)."""
    with _lock:
        if not _loaded:
            _loaded.append(cache.load_or_build("pypinyin", data_files(), build, version=TABLES_VERSION))
        return _loaded[0]


class _TablesHook(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds pypinyin's two data modules and fills them from ``tables()``."""

    def find_spec(
        self, fullname: str, path: Any = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in (SINGLE_MODULE, PHRASES_MODULE):
            return None
        return importlib.machinery.ModuleSpec(fullname, self, origin="bot.text.pinyin_tables")

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None  # the default module

    def exec_module(self, module: ModuleType) -> None:
        try:
            single, phrases = tables()
        except (OSError, ValueError) as exc:  # pypinyin's own loading raises the same way
            raise ImportError(f"pypinyin's data: {exc}") from exc
        if module.__name__ == SINGLE_MODULE:
            # pypinyin copies both tables (3 MB) so that its load_*_dict functions leave
            # the originals alone, unless told not to; these originals are this
            # process's own, and nothing here calls those functions.
            os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "1")
            module.__dict__["pinyin_dict"] = single
        else:
            module.__dict__["phrases_dict"] = phrases


_HOOK = _TablesHook()


def install() -> bool:
    """Put the hook in front of pypinyin's data modules; False if pypinyin is already
    imported (it keeps its own tables) or the hook is already there."""
    if _HOOK in sys.meta_path:
        return False
    if "pypinyin" in sys.modules:
        logger.debug("pypinyin was imported before bot.text: it keeps its own tables")
        return False
    sys.meta_path.insert(0, _HOOK)
    return True


def installed() -> bool:
    """Whether pypinyin reads the tables of this module in this process."""
    module = sys.modules.get(PHRASES_MODULE)
    return module is not None and module.__spec__ is not None and module.__spec__.loader is _HOOK
