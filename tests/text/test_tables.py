"""jieba's and pypinyin's dictionaries as ``bot.text`` loads them: the same data, so the
same cuts and readings, as the packages' own loading gives (issue 17: start-up)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import jieba
import pytest
import yaml

from bot.text import jieba_shards, pinyin_tables
from bot.text import tables as cache
from bot.text.segmenter import Segmenter, dictionary_path

ROOT = Path(__file__).resolve().parents[2]


def _strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    """Every string of the sample flows, their tests, the built-in intents and the sample
    knowledge base, and random strings of their characters and of jieba's."""
    files = [*ROOT.glob("flows/**/*.yaml"), *ROOT.glob("knowledge/data/*.yaml"), *ROOT.glob("bot/**/*.yaml")]
    texts = sorted({text for path in files for text in _strings(yaml.safe_load(path.read_text("utf-8")))})
    characters = "".join(texts)
    rng = random.Random(17)
    for _ in range(2000):
        length = rng.randint(2, 24)
        texts.append("".join(rng.choice(characters) for _ in range(length)))
        texts.append(
            "我要" + "".join(rng.choice(characters) for _ in range(4)) + "ab12" + rng.choice(texts[:300])
        )
    return texts


@pytest.fixture(scope="module")
def whole() -> jieba.Tokenizer:
    """jieba as it loads itself: the whole dictionary at once."""
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


# -- jieba --


def test_the_shards_hold_jiebas_whole_dictionary() -> None:
    entries, total = jieba.Tokenizer.gen_pfdict(dictionary_path().open("rb"))
    shards = jieba_shards.ShardedDictionary.open(dictionary_path(), jieba.Tokenizer.gen_pfdict)
    assert shards.total == total
    merged = shards.singles()
    assert all(len(word) == 1 for word in merged)
    for pair in {word[:2] for word in entries if len(word) > 1}:
        shard = shards.shard(pair)
        assert shard
        assert all(word.startswith(pair) for word in shard)
        merged.update(shard)
    assert merged == entries
    assert shards.shard("\x00\x00") == shards.shard("我") == {}


def test_text_is_cut_as_the_whole_dictionary_cuts_it(corpus: list[str], whole: jieba.Tokenizer) -> None:
    segmenter = Segmenter()
    segmenter.initialize()
    assert [segmenter.cut(text) for text in corpus] == [whole.lcut(text, HMM=False) for text in corpus]
    words = ["报销进度", "医保卡", "异地就医", "幺三八", "不存在的词"]
    assert [segmenter.frequency(w) for w in words] == [int(whole.FREQ.get(w) or 0) for w in words]


@pytest.mark.parametrize("when", ["before initialize", "before any cut", "after cuts"])
def test_words_taught_cut_as_with_the_whole_dictionary(corpus: list[str], when: str) -> None:
    # Added words shift the total and every cut a little: in whatever order the shards
    # and the words come, the result is jieba's with the same words added.
    taught = ["转人工", "补办医保卡", "报销进度查询", "幺三八", "不好意思", "娃儿", "医保电子凭证"]
    reference = jieba.Tokenizer()
    reference.initialize()
    for word in taught:
        reference.add_word(word)
    segmenter = Segmenter()
    if when == "before initialize":
        segmenter.add_words(taught)
    segmenter.initialize()
    if when == "after cuts":
        for text in corpus[:200]:
            segmenter.cut(text)
    if when != "before initialize":
        segmenter.add_words(taught)
    assert [segmenter.cut(text) for text in corpus] == [reference.lcut(text, HMM=False) for text in corpus]


def test_the_dictionary_opens_once_for_many_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[Path] = []
    real_open = jieba_shards.ShardedDictionary.open

    def counting(dictionary: Path, parse: jieba_shards.Parser) -> jieba_shards.ShardedDictionary:
        opened.append(dictionary)
        return real_open(dictionary, parse)

    monkeypatch.setattr(jieba_shards.ShardedDictionary, "open", counting)
    segmenter = Segmenter()
    segmenter.add_words(["转人工"])
    threads = [threading.Thread(target=segmenter.initialize) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    segmenter.initialize()
    assert opened == [dictionary_path()]
    assert segmenter.cut("我要转人工")[-1] == "转人工"  # the word taught before


def test_only_the_pairs_met_are_loaded(whole: jieba.Tokenizer) -> None:
    segmenter = Segmenter()
    segmenter.initialize()
    assert segmenter.pairs_loaded == 0
    segmenter.cut("我要转人工")
    # Those of 我要, 要转, 转人 and 人工 that begin a word of the dictionary.
    beginning = [pair for pair in ("我要", "要转", "转人", "人工") if pair in whole.FREQ]
    assert segmenter.pairs_loaded == len(beginning) > 0
    segmenter.cut("转人工")  # nothing new
    assert segmenter.pairs_loaded == len(beginning)


# -- pypinyin --


def test_the_pinyin_tables_are_pypinyins_data() -> None:
    single_path, phrases_path = pinyin_tables.data_files()
    single, phrases = pinyin_tables.build()
    assert single == {
        int(code): reading for code, reading in json.loads(single_path.read_text("utf-8")).items()
    }
    assert phrases == json.loads(phrases_path.read_text("utf-8"))
    assert pinyin_tables.tables() == (single, phrases)  # the cached copy too


_READ = """
import json, sys
if sys.argv[1] == "tables":
    import bot.text  # installs the hook before pypinyin is imported
from pypinyin import Style, lazy_pinyin, pinyin
import pypinyin.constants
from bot.text.pinyin_tables import installed
texts = json.load(sys.stdin)
print(json.dumps({
    "installed": installed(),
    "copied": pypinyin.constants.PHRASES_DICT is not sys.modules["pypinyin.phrases_dict"].phrases_dict,
    "plain": [lazy_pinyin(t) for t in texts],
    "tone3": [
        lazy_pinyin(t, style=Style.TONE3, neutral_tone_with_five=True, tone_sandhi=True) for t in texts
    ],
    "heteronyms": [pinyin(t, heteronym=True) for t in texts[:500]],
}))
"""


def test_pypinyin_reads_the_same_through_the_tables(corpus: list[str]) -> None:
    def read(how: str) -> dict[str, object]:
        done = subprocess.run(
            [sys.executable, "-c", _READ, how],
            input=json.dumps(corpus),
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if k != "PYPINYIN_NO_DICT_COPY"},
        )
        result: dict[str, object] = json.loads(done.stdout)
        return result

    own, compact = read("own"), read("tables")
    assert (own.pop("installed"), compact.pop("installed")) == (False, True)
    assert (own.pop("copied"), compact.pop("copied")) == (True, False)
    assert compact == own


# -- the cache --


def test_a_table_is_built_once_then_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    source = tmp_path / "source.txt"
    source.write_text("a")
    builds: list[int] = []

    def build() -> dict[str, list[str]]:
        builds.append(1)
        shared = ["x"]
        return {"a": shared, "b": shared}

    first = cache.load_or_build("t", [source], build, version=1)
    again = cache.load_or_build("t", [source], build, version=1)
    assert first == again == {"a": ["x"], "b": ["x"]}
    assert again["a"] is again["b"]  # shared objects stay shared
    assert len(builds) == 1
    assert cache.cache_dir() == tmp_path / "voicebot"
    (written,) = (tmp_path / "voicebot").iterdir()
    written.write_bytes(b"\x00garbage")  # unreadable: built again and rewritten
    assert cache.load_or_build("t", [source], build, version=1) == first
    assert len(builds) == 2
    source.write_text("changed")  # a new source: a new file, not the old table
    cache.load_or_build("t", [source], build, version=1)
    assert len(builds) == 3
    assert len(list((tmp_path / "voicebot").iterdir())) == 2


def test_no_usable_directory_builds_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    monkeypatch.setattr(cache, "_candidates", lambda: [blocked / "voicebot"])
    assert cache.cache_dir() is None
    assert cache.load_or_build("t", [blocked], lambda: [1, 2], version=1) == [1, 2]


def test_a_directory_of_another_user_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    link = tmp_path / "planted"
    link.symlink_to(tmp_path)  # e.g. a link another user left in /tmp
    monkeypatch.setattr(cache, "_candidates", lambda: [link, tmp_path / "mine"])
    assert cache.cache_dir() == tmp_path / "mine"
