"""Flow versions shared between instances (bot/dialog/flow_versions.py): a version one
instance publishes is rebuilt, exactly, by another that never loaded it."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import shutil
import struct
import wave
from collections.abc import AsyncIterator, Collection
from pathlib import Path

import pytest
import redis.asyncio as redis_asyncio

from bot.dialog.flow_versions import (
    REDIS_PREFIX,
    FlowArchiveError,
    LocalFlowArchive,
    RedisFlowArchive,
    SharedFlows,
    flow_archive,
    pins,
    read_files,
)
from bot.dialog.registry import MAX_VERSIONS_KEPT, FlowRegistry
from bot.dialog.state import CallState, Frame
from bot.errors import FlowValidationError, UnknownFlowError
from bot.language.loader import FlowSource, load_flow, load_flows
from bot.text.segmenter import Segmenter
from tests.servers import free_port

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "flows"
PAID = "查到了。您的报销款{{claim.amount}}已于{{claim.paid_on}}到账，请注意查收。"
PAID_EDITED = "查到了（新版）。您的报销款{{claim.amount}}已于{{claim.paid_on}}到账，请注意查收。"
NOT_FOUND = "    say: 抱歉，没有查到这个身份证号码的报销申请。\n"
NOT_FOUND_RECORDED = (
    "    say: {text: 抱歉，没有查到这个身份证号码的报销申请。, audio: recordings/not_found.wav}\n"
)
CLAIM_ID = "11010519491231002X"
LOGGER = "bot.dialog.flow_versions"


def copy_flows(tmp_path: Path, name: str) -> Path:
    directory = tmp_path / name
    shutil.copytree(SAMPLES_DIR, directory)
    return directory


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def write_wav(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"".join(struct.pack("<h", (i % 40) * 300 - 6000) for i in range(800)))


def registry_of(directory: Path, segmenter: Segmenter) -> FlowRegistry:
    registry = FlowRegistry(segmenter=segmenter, default_threshold=0.5)
    registry.install(load_flows(directory).values())
    return registry


def state_on(name: str, version: str, **fields: object) -> CallState:
    return CallState(call_id="c1", telnum="13800000000", flow=name, flow_version=version, **fields)  # type: ignore[arg-type]


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis_asyncio.Redis]:
    connection = redis_asyncio.Redis.from_url(redis_url)
    try:
        yield connection
    finally:
        await connection.aclose()


@pytest.fixture
def dir_a(tmp_path: Path) -> Path:
    """Instance A's flows: yibao edited (a newer version)."""
    directory = copy_flows(tmp_path, "a")
    edit(directory / "yibao.yaml", PAID, PAID_EDITED)
    return directory


@pytest.fixture
def dir_b(tmp_path: Path) -> Path:
    """Instance B's flows: the repository's."""
    return copy_flows(tmp_path, "b")


@pytest.fixture
def registry_a(dir_a: Path, segmenter: Segmenter) -> FlowRegistry:
    return registry_of(dir_a, segmenter)


@pytest.fixture
def registry_b(dir_b: Path, segmenter: Segmenter) -> FlowRegistry:
    return registry_of(dir_b, segmenter)


def archive_of(client: redis_asyncio.Redis, tmp_path: Path, instance: str) -> RedisFlowArchive:
    return RedisFlowArchive(client, tmp_path / f"var-{instance}" / "flow_versions")


def paid_text(source: FlowSource) -> str:
    say = source.flow.steps["claim_paid"].say
    assert say is not None
    return say.text


async def test_a_version_published_by_one_instance_is_served_exactly_by_another(
    client: redis_asyncio.Redis, tmp_path: Path, registry_a: FlowRegistry, registry_b: FlowRegistry
) -> None:
    version_a = registry_a.get("yibao").version
    current_b = registry_b.get("yibao").version
    assert version_a != current_b
    shared_a = SharedFlows(registry_a, archive_of(client, tmp_path, "a"))
    shared_b = SharedFlows(registry_b, archive_of(client, tmp_path, "b"))
    await shared_a.publish(registry_a.get(name).source for name in registry_a.names())
    assert not registry_b.has("yibao", version_a)

    await shared_b.ensure(state_on("yibao", version_a))

    assert registry_b.has("yibao", version_a)
    kept = registry_b.get("yibao", version_a)
    assert kept.version == version_a
    assert paid_text(kept.source) == PAID_EDITED
    assert kept.nlu.parse("转人工").intent is not None
    assert registry_b.get("yibao").version == current_b  # new calls still start on B's own
    assert paid_text(registry_b.get("yibao").source) == PAID
    rebuilt = tmp_path / "var-b" / "flow_versions" / f"yibao-{version_a}"
    assert (rebuilt / "yibao.yaml").read_bytes() == (registry_a.get("yibao").source.path).read_bytes()
    assert (rebuilt / "data" / "claims.csv").is_file()
    assert await client.ttl(f"{REDIS_PREFIX}yibao:{version_a}") > 6 * 24 * 3600


async def test_a_version_not_in_the_archive_falls_back_to_the_current_one_with_one_warning(
    client: redis_asyncio.Redis,
    tmp_path: Path,
    registry_b: FlowRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    shared = SharedFlows(registry_b, archive_of(client, tmp_path, "b"), retry_seconds=0)
    state = state_on("yibao", "0123456789ab")

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        await shared.ensure(state)
        await shared.ensure(state)  # asked again (retry_seconds=0), not warned again

    assert not registry_b.has("yibao", "0123456789ab")
    assert registry_b.get(*state.position) is registry_b.get("yibao")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "0123456789ab" in warnings[0].getMessage()


async def test_the_tables_of_a_version_travel_with_it(
    client: redis_asyncio.Redis, tmp_path: Path, segmenter: Segmenter, registry_b: FlowRegistry
) -> None:
    dir_c = copy_flows(tmp_path, "c")
    edit(dir_c / "data" / "claims.csv", "3500.00", "4321.00")
    registry_c = registry_of(dir_c, segmenter)
    version_c = registry_c.get("yibao").version
    assert version_c != registry_b.get("yibao").version  # a table is part of the version
    await SharedFlows(registry_c, archive_of(client, tmp_path, "c")).publish([registry_c.get("yibao").source])

    await SharedFlows(registry_b, archive_of(client, tmp_path, "b")).ensure(state_on("yibao", version_c))

    kept = registry_b.get("yibao", version_c)
    assert kept.version == version_c
    row = kept.tables["claims"].find({"id_card": CLAIM_ID})
    assert row is not None
    assert row["amount"] == "4321.00"
    current = registry_b.get("yibao").tables["claims"].find({"id_card": CLAIM_ID})
    assert current is not None
    assert current["amount"] == "3500.00"


async def test_tampered_bytes_are_refused(
    client: redis_asyncio.Redis,
    tmp_path: Path,
    registry_a: FlowRegistry,
    registry_b: FlowRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    version_a = registry_a.get("yibao").version
    await RedisFlowArchive(client, tmp_path / "unused").publish(registry_a.get("yibao").source)
    key = f"{REDIS_PREFIX}yibao:{version_a}"
    flow = await client.hget(key, "flow")
    assert isinstance(flow, bytes)
    await client.hset(key, "flow", flow.replace("新版".encode(), "篡改".encode()))
    archive_b = archive_of(client, tmp_path, "b")

    with caplog.at_level(logging.ERROR, logger=LOGGER):
        assert await archive_b.fetch("yibao", version_a, flow_names=registry_b.names()) is None
        await SharedFlows(registry_b, archive_b).ensure(state_on("yibao", version_a))

    assert any("refused" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    assert not registry_b.has("yibao", version_a)
    assert paid_text(registry_b.get("yibao", version_a).source) == PAID  # the fallback


async def test_a_tampered_table_is_refused_too(
    client: redis_asyncio.Redis, tmp_path: Path, registry_a: FlowRegistry, registry_b: FlowRegistry
) -> None:
    version_a = registry_a.get("yibao").version
    await RedisFlowArchive(client, tmp_path / "unused").publish(registry_a.get("yibao").source)
    key = f"{REDIS_PREFIX}yibao:{version_a}"
    table = await client.hget(key, "table:claims.csv")
    assert isinstance(table, bytes)
    await client.hset(key, "table:claims.csv", table.replace(b"3500.00", b"9999.00"))

    assert await archive_of(client, tmp_path, "b").fetch("yibao", version_a, flow_names=["survey"]) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [("file", b"../../etc/yibao.yaml"), ("file", b"other.yaml"), ("table:../claims.csv", b"x")],
    ids=["file-climbs-out", "file-of-another-flow", "table-climbs-out"],
)
async def test_file_names_that_leave_the_private_directory_are_refused(
    client: redis_asyncio.Redis, tmp_path: Path, registry_a: FlowRegistry, field: str, value: bytes
) -> None:
    version_a = registry_a.get("yibao").version
    await RedisFlowArchive(client, tmp_path / "unused").publish(registry_a.get("yibao").source)
    await client.hset(f"{REDIS_PREFIX}yibao:{version_a}", field, value)
    cache = tmp_path / "var-b" / "flow_versions"

    assert await RedisFlowArchive(client, cache).fetch("yibao", version_a, flow_names=["survey"]) is None
    assert not (tmp_path / "etc").exists()
    assert not cache.exists()


async def test_recordings_are_not_archived_and_their_absence_does_not_stop_a_version(
    client: redis_asyncio.Redis, tmp_path: Path, dir_a: Path, segmenter: Segmenter, registry_b: FlowRegistry
) -> None:
    edit(dir_a / "yibao.yaml", NOT_FOUND, NOT_FOUND_RECORDED)
    write_wav(dir_a / "recordings" / "not_found.wav")
    registry_a = registry_of(dir_a, segmenter)
    version_a = registry_a.get("yibao").version
    await RedisFlowArchive(client, tmp_path / "unused").publish(registry_a.get("yibao").source)
    stored = await client.hgetall(f"{REDIS_PREFIX}yibao:{version_a}")
    assert sorted(stored) == [b"file", b"flow", b"table:claims.csv"]

    await SharedFlows(registry_b, archive_of(client, tmp_path, "b")).ensure(state_on("yibao", version_a))

    kept = registry_b.get("yibao", version_a)
    assert kept.version == version_a
    say = kept.flow.steps["claim_not_found"].say
    assert say is not None
    assert say.audio == "recordings/not_found.wav"
    # Checked as the loader does for a flows directory, the missing recording is a problem.
    rebuilt = tmp_path / "var-b" / "flow_versions" / f"yibao-{version_a}" / "yibao.yaml"
    with pytest.raises(FlowValidationError, match=r"not_found\.wav"):
        load_flow(rebuilt, flow_names={"yibao", "survey"})


async def test_a_flow_this_instance_does_not_have_is_not_fetched(
    client: redis_asyncio.Redis, tmp_path: Path, registry_b: FlowRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        await SharedFlows(registry_b, archive_of(client, tmp_path, "b")).ensure(
            state_on("gone", "0123456789ab")
        )
    assert "no flow of that name" in caplog.text


async def test_every_pin_of_a_call_is_fetched_once_even_by_turns_at_the_same_time(
    client: redis_asyncio.Redis, tmp_path: Path, registry_a: FlowRegistry, registry_b: FlowRegistry
) -> None:
    version_a = registry_a.get("yibao").version
    survey = registry_b.get("survey").version
    await SharedFlows(registry_a, archive_of(client, tmp_path, "a")).publish([registry_a.get("yibao").source])
    counting = CountingArchive(archive_of(client, tmp_path, "b"))
    shared = SharedFlows(registry_b, counting)
    state = state_on(
        "survey",
        survey,
        active_flow="yibao",
        active_version=version_a,
        stack=(Frame("yibao", version_a, "menu"), Frame("survey", survey, "q1")),
    )
    assert list(pins(state)) == [
        ("survey", survey),
        ("yibao", version_a),
        ("yibao", version_a),
        ("survey", survey),
    ]

    await asyncio.gather(*(shared.ensure(state) for _ in range(5)))

    assert counting.fetched == [("yibao", version_a)]
    assert registry_b.has("yibao", version_a)
    await shared.ensure(state)  # all kept now: no fetch
    assert counting.fetched == [("yibao", version_a)]


async def test_redis_down_leaves_the_current_version(
    tmp_path: Path, registry_b: FlowRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    down = redis_asyncio.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.5)
    try:
        shared = SharedFlows(registry_b, RedisFlowArchive(down, tmp_path / "cache"))
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            await shared.publish([registry_b.get("yibao").source])
            await shared.ensure(state_on("yibao", "0123456789ab"))
            await shared.ensure(state_on("yibao", "0123456789ab"))  # within the retry delay: not asked
    finally:
        await down.aclose()
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(messages) == 2
    assert "not shared" in messages[0]
    assert "cannot be had" in messages[1]
    assert registry_b.get("yibao", "0123456789ab") is registry_b.get("yibao")


async def test_files_changed_since_loading_are_not_published(
    client: redis_asyncio.Redis, tmp_path: Path, dir_b: Path, registry_b: FlowRegistry
) -> None:
    source = registry_b.get("yibao").source
    edit(dir_b / "data" / "claims.csv", "3500.00", "1.00")
    with pytest.raises(FlowArchiveError, match="changed since"):
        read_files(source)
    await SharedFlows(registry_b, archive_of(client, tmp_path, "b")).publish([source])
    assert await client.exists(f"{REDIS_PREFIX}yibao:{source.version}") == 0


async def test_one_instance_shares_nothing(tmp_path: Path, registry_b: FlowRegistry) -> None:
    archive = flow_archive(None, tmp_path)
    assert isinstance(archive, LocalFlowArchive)
    await archive.publish(registry_b.get("yibao").source)
    assert await archive.fetch("yibao", registry_b.get("yibao").version) is None


# --- the registry ---------------------------------------------------------------------


def test_a_kept_version_never_becomes_current_and_the_bound_spares_current_ones(
    registry_b: FlowRegistry,
) -> None:
    current = {name: registry_b.get(name).version for name in registry_b.names()}
    source = registry_b.get("yibao").source
    olds = [dataclasses.replace(source, version=f"{i:012x}") for i in range(MAX_VERSIONS_KEPT + 5)]
    for old in olds:
        registry_b.keep_version(old)

    assert {name: registry_b.get(name).version for name in registry_b.names()} == current
    assert all(registry_b.has(name, version) for name, version in current.items())
    kept = [old.version for old in olds if registry_b.has("yibao", old.version)]
    assert kept == [old.version for old in olds[-MAX_VERSIONS_KEPT:]]  # the least recent dropped
    assert registry_b.keep_version(olds[-1]) is registry_b.get("yibao", olds[-1].version)  # built once


def test_a_version_of_an_unknown_flow_is_not_kept(registry_b: FlowRegistry, registry_a: FlowRegistry) -> None:
    source = dataclasses.replace(registry_a.get("yibao").source, name="gone")
    with pytest.raises(UnknownFlowError, match="unknown flow 'gone'"):
        registry_b.keep_version(source)


class CountingArchive:
    """An archive that counts its fetches and makes each last a little."""

    def __init__(self, inner: RedisFlowArchive) -> None:
        self.inner = inner
        self.fetched: list[tuple[str, str]] = []

    async def publish(self, source: FlowSource) -> None:
        await self.inner.publish(source)

    async def fetch(self, name: str, version: str, *, flow_names: Collection[str] = ()) -> FlowSource | None:
        self.fetched.append((name, version))
        await asyncio.sleep(0.05)
        return await self.inner.fetch(name, version, flow_names=flow_names)


async def test_the_words_of_a_kept_version_are_taught_and_the_current_flows_rebuilt(
    client: redis_asyncio.Redis, tmp_path: Path, dir_a: Path, segmenter: Segmenter, dir_b: Path
) -> None:
    edit(dir_a / "yibao.yaml", "keywords: [再见, 拜拜, 挂了]", "keywords: [再见, 拜拜, 挂了, 版本二热线]")
    registry_a = registry_of(dir_a, segmenter)
    version_a = registry_a.get("yibao").version
    await SharedFlows(registry_a, archive_of(client, tmp_path, "a")).publish([registry_a.get("yibao").source])
    fresh = Segmenter()  # instance B's own: it never saw A's new keyword
    await asyncio.to_thread(fresh.initialize)
    registry_b = registry_of(dir_b, fresh)
    before = registry_b.get("yibao")

    await SharedFlows(registry_b, archive_of(client, tmp_path, "b")).ensure(state_on("yibao", version_a))

    kept = registry_b.get("yibao", version_a)
    best = kept.nlu.parse("版本二热线").intent
    assert best is not None
    assert best.name == "goodbye"
    after = registry_b.get("yibao")
    assert after.version == before.version
    assert after is not before  # rebuilt with the new word, as install does
