"""The outbox against a real receiver on loopback: delivered once, retried, refused, restarted."""

from __future__ import annotations

import itertools
import logging
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.errors import OutboxError
from bot.outcome.outbox import Outbox, idempotency_key
from bot.outcome.signing import SIGNATURE_HEADER, verify
from tests.loopback import Received, unused_port
from tests.outcome.receiver import OutcomeReceiver, always, eventually, failing

OpenOutbox = Callable[..., Awaitable[Outbox]]


def payload(callid: str) -> dict[str, object]:
    return {"version": 1, "callid": callid, "slots": {"姓名": "张三"}}


@pytest.fixture
async def outboxes(tmp_path: Path) -> AsyncIterator[list[Outbox]]:
    """Every outbox a test opens, closed at its end."""
    opened: list[Outbox] = []
    yield opened
    for outbox in opened:
        await outbox.close()


@pytest.fixture
def open_outbox(tmp_path: Path, outboxes: list[Outbox]) -> OpenOutbox:
    async def open_one(url: str, **options: float) -> Outbox:
        small = {"backoff_base_seconds": 0.02, "max_backoff_seconds": 0.1, **options}
        outbox = Outbox(tmp_path / "outbox.sqlite3", url, **small)  # type: ignore[arg-type]
        await outbox.open()
        outboxes.append(outbox)
        return outbox

    return open_one


async def delivered(outbox: Outbox, *call_ids: str) -> None:
    async def all_delivered() -> bool:
        rows = [await outbox.get(c) for c in call_ids]
        return all(r is not None and r.state == "delivered" for r in rows)

    await eventually(all_delivered)


async def test_each_push_is_delivered_once_as_stored(
    receiver: OutcomeReceiver, open_outbox: OpenOutbox
) -> None:
    outbox = await open_outbox(receiver.url)
    for callid in ("c1", "c2", "电话-3"):
        assert await outbox.enqueue(callid, payload(callid))
    await delivered(outbox, "c1", "c2", "电话-3")

    assert receiver.accepted == {"c1": 1, "c2": 1, "电话-3": 1}
    first = receiver.received[0]
    assert (first.method, first.target) == ("POST", "/outcomes?token=secret")
    assert first.headers["content-type"] == "application/json"
    assert first.headers["idempotency-key"] == "c1"
    assert receiver.payload(0) == payload("c1")
    assert first.body.decode() == '{"version": 1, "callid": "c1", "slots": {"姓名": "张三"}}'
    keys = {r.headers["idempotency-key"] for r in receiver.received}
    assert keys == {"c1", "c2", "%E7%94%B5%E8%AF%9D-3"}
    row = await outbox.get("c1")
    assert row is not None
    assert (row.attempts, row.last_error) == (1, None)
    assert row.delivered_at is not None
    stats = await outbox.stats()
    assert stats == {"pending": 0, "delivered": 3, "rejected": 0, "oldest_pending_seconds": None}


async def test_enqueue_is_idempotent_per_call_id(receiver: OutcomeReceiver, open_outbox: OpenOutbox) -> None:
    outbox = await open_outbox(receiver.url)
    assert await outbox.enqueue("c1", payload("c1"))
    assert not await outbox.enqueue("c1", {"callid": "c1", "other": True})
    await delivered(outbox, "c1")
    assert not await outbox.enqueue("c1", payload("c1"))  # delivered: never again
    assert await outbox.enqueue("c2", payload("c2"))
    await delivered(outbox, "c2")
    assert receiver.hits == {"c1": 1, "c2": 1}
    assert receiver.payload(0) == payload("c1")  # the first payload stays


async def test_a_receiver_refusing_connections_gets_everything_once_it_is_up(open_outbox: OpenOutbox) -> None:
    port = unused_port()
    down = OutcomeReceiver()
    outbox = await open_outbox(f"http://127.0.0.1:{port}/outcomes")
    for callid in ("a", "b"):
        await outbox.enqueue(callid, payload(callid))

    async def both_retried() -> bool:
        rows = [await outbox.get(c) for c in ("a", "b")]
        return all(r is not None and r.attempts >= 2 for r in rows)

    await eventually(both_retried)
    row = await outbox.get("a")
    assert row is not None
    assert (row.state, row.delivered_at) == ("pending", None)
    assert "ConnectError" in (row.last_error or "")
    assert (await outbox.stats())["oldest_pending_seconds"] is not None

    await down.start(port)
    try:
        await delivered(outbox, "a", "b")
        assert down.accepted == {"a": 1, "b": 1}
    finally:
        await down.close()


@pytest.mark.parametrize("status", [503, 500, 429, 408], ids=str)
async def test_a_busy_receiver_is_tried_again(open_outbox: OpenOutbox, status: int) -> None:
    receiver = OutcomeReceiver(failing(status, times=2))
    await receiver.start()
    try:
        outbox = await open_outbox(receiver.url)
        await outbox.enqueue("a", payload("a"))
        await outbox.enqueue("b", payload("b"))
        await delivered(outbox, "a", "b")
        assert receiver.hits == {"a": 3, "b": 3}
        assert receiver.accepted == {"a": 1, "b": 1}
        row = await outbox.get("a")
        assert row is not None
        assert row.attempts == 3
    finally:
        await receiver.close()


@pytest.mark.parametrize("status", [400, 404, 422, 302], ids=str)
async def test_a_refusal_is_final_and_logged(
    open_outbox: OpenOutbox, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = OutcomeReceiver(lambda callid, nth: status if callid == "bad" else 200)
    await receiver.start()
    try:
        outbox = await open_outbox(receiver.url)
        await outbox.enqueue("bad", payload("bad"))

        async def refused() -> bool:
            row = await outbox.get("bad")
            return row is not None and row.state == "rejected"

        await eventually(refused)
        await outbox.enqueue("good", payload("good"))  # delivery goes on after a refusal
        await delivered(outbox, "good")
        assert receiver.hits == {"bad": 1, "good": 1}
        row = await outbox.get("bad")
        assert row is not None
        assert row.attempts == 1
        assert row.last_error == f'HTTP {status}: {{"error": "bad field x"}}'
        assert (await outbox.stats())["rejected"] == 1
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1
        assert "bad" in errors[0].getMessage()
        assert f"HTTP {status}" in errors[0].getMessage()
        assert "secret" not in errors[0].getMessage()  # the URL's query is not logged
    finally:
        await receiver.close()


async def test_a_restart_sends_what_was_pending_and_nothing_twice(
    tmp_path: Path, receiver: OutcomeReceiver, open_outbox
) -> None:
    port = receiver.port
    url = receiver.url
    # A long backoff: only the restart itself makes the waiting pushes due again.
    first = await open_outbox(url, backoff_base_seconds=600, max_backoff_seconds=600)
    await first.enqueue("early", payload("early"))
    await delivered(first, "early")
    await receiver.close()  # the receiver goes down
    for callid in ("p1", "p2", "p3"):
        await first.enqueue(callid, payload(callid))

    async def all_tried() -> bool:
        rows = [await first.get(c) for c in ("p1", "p2", "p3")]
        return all(r is not None and r.attempts == 1 for r in rows)

    await eventually(all_tried)
    await first.close()

    await receiver.start(port)  # back up, on the same address
    second = await open_outbox(url, backoff_base_seconds=600, max_backoff_seconds=600)
    await delivered(second, "p1", "p2", "p3")
    assert receiver.accepted == {"early": 1, "p1": 1, "p2": 1, "p3": 1}
    assert sorted(r.headers["idempotency-key"] for r in receiver.received) == ["early", "p1", "p2", "p3"]
    assert (await second.stats())["delivered"] == 4


async def test_a_push_in_flight_at_close_stays_pending(tmp_path: Path, open_outbox: OpenOutbox) -> None:
    silent = OutcomeReceiver()
    silent.hold.clear()  # it never answers
    await silent.start()
    try:
        outbox = await open_outbox(silent.url)
        await outbox.enqueue("a", payload("a"))
        await eventually(lambda: silent.hits["a"] == 1)
        await outbox.close()
    finally:
        await silent.close()

    receiver = OutcomeReceiver()
    await receiver.start(silent.port)
    try:
        reopened = await open_outbox(receiver.url)
        await delivered(reopened, "a")
        assert receiver.accepted == {"a": 1}
        assert receiver.received[0].headers["idempotency-key"] == "a"  # the same key as before
    finally:
        await receiver.close()


async def test_a_few_at_a_time_oldest_first(receiver: OutcomeReceiver, open_outbox: OpenOutbox) -> None:
    receiver.hold.clear()
    outbox = await open_outbox(receiver.url, concurrency=3)
    call_ids = [f"c{n}" for n in range(8)]
    for callid in call_ids:
        await outbox.enqueue(callid, payload(callid))
    await eventually(lambda: receiver.in_flight == 3)
    assert set(receiver.hits) == {"c0", "c1", "c2"}
    receiver.hold.set()
    await delivered(outbox, *call_ids)
    assert receiver.most_in_flight == 3
    assert receiver.accepted == dict.fromkeys(call_ids, 1)


async def test_the_backoff_grows_to_its_cap(tmp_path: Path) -> None:
    base, cap = 0.01, 0.08
    waits: list[tuple[int, float]] = []

    async def note_the_wait(received: Received) -> None:
        # Read while the request waits: what the outbox stored after the attempt before it.
        row = await outbox.get("a")
        assert row is not None
        if row.attempts:
            assert row.last_attempt_at is not None
            waits.append((row.attempts, row.next_attempt_at - row.last_attempt_at))

    receiver = OutcomeReceiver(always(503), on_request=note_the_wait)
    await receiver.start()
    outbox = Outbox(
        tmp_path / "outbox.sqlite3", receiver.url, backoff_base_seconds=base, max_backoff_seconds=cap
    )
    await outbox.open()
    try:
        await outbox.enqueue("a", payload("a"))
        await eventually(lambda: len(waits) >= 7)
    finally:
        await outbox.close()
        await receiver.close()
    attempts = [n for n, _ in waits]
    delays = [d for _, d in waits]
    assert attempts == list(range(1, len(waits) + 1))  # one stored attempt per request
    assert all(later >= earlier - 1e-6 for earlier, later in itertools.pairwise(delays))
    for n, delay in waits:
        low = min(base * 2 ** (n - 1), cap)
        assert low - 1e-6 <= delay <= min(low + base, cap) + 1e-6  # epoch REALs: µs precision
    assert delays[-1] == pytest.approx(cap, abs=1e-6)


def test_retry_delays_double_with_jitter_up_to_the_cap(tmp_path: Path) -> None:
    outbox = Outbox(
        tmp_path / "o.sqlite3", "http://127.0.0.1:9/", backoff_base_seconds=1.0, max_backoff_seconds=60
    )
    for attempts in range(1, 40):
        for _ in range(20):
            delay = outbox.retry_delay_seconds(attempts)
            low = min(2 ** (attempts - 1), 60)
            assert low <= delay <= min(low + 1, 60)


def test_the_idempotency_key_is_the_call_id_header_safe() -> None:
    assert idempotency_key("20240301-0001") == "20240301-0001"
    assert idempotency_key("a b") == "a b"
    assert idempotency_key("呼叫1") == "%E5%91%BC%E5%8F%AB1"
    assert idempotency_key("x\r\nEvil: 1") == "x%0D%0AEvil%3A%201"


async def test_delivered_pushes_older_than_the_keep_time_are_removed(
    tmp_path: Path, receiver: OutcomeReceiver, open_outbox
) -> None:
    first = await open_outbox(receiver.url)
    for callid in ("old", "recent"):
        await first.enqueue(callid, payload(callid))
    await delivered(first, "old", "recent")
    await first.close()
    with sqlite3.connect(tmp_path / "outbox.sqlite3") as db:
        db.execute("UPDATE outbox SET delivered_at = ? WHERE call_id = 'old'", (time.time() - 8 * 86400,))
    db.close()

    second = await open_outbox(receiver.url, keep_days=7)
    await eventually(lambda: _is_gone(second, "old"))
    assert await second.get("recent") is not None
    assert receiver.accepted == {"old": 1, "recent": 1}


async def _is_gone(outbox: Outbox, call_id: str) -> bool:
    return await outbox.get(call_id) is None


async def test_a_closed_outbox_says_so(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3", "http://127.0.0.1:9/")
    await outbox.open()
    await outbox.close()
    with pytest.raises(OutboxError, match="closed"):
        await outbox.enqueue("a", payload("a"))


async def test_pushes_carry_the_configured_headers_and_a_signature_the_receiver_can_check(
    tmp_path: Path, receiver: OutcomeReceiver, outboxes: list[Outbox]
) -> None:
    outbox = Outbox(
        tmp_path / "outbox.sqlite3",
        receiver.url,
        secret="push-secret",
        headers={"Authorization": "Bearer crm-token"},
    )
    await outbox.open()
    outboxes.append(outbox)
    assert await outbox.enqueue("signed-1", payload("signed-1"))
    await delivered(outbox, "signed-1")
    pushed = receiver.received[0]
    assert pushed.headers["authorization"] == "Bearer crm-token"
    header = pushed.headers[SIGNATURE_HEADER.lower()]
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)
    assert verify(b"push-secret", header, pushed.body)
    assert not verify(b"another-secret", header, pushed.body)
    assert not verify(b"push-secret", header, pushed.body + b" ")  # the body was changed
    stamp = int(header.split(",")[0][2:])
    assert not verify(b"push-secret", header, pushed.body, now=stamp + 301)  # replayed later


async def test_unsigned_pushes_have_no_signature(receiver: OutcomeReceiver, open_outbox: OpenOutbox) -> None:
    outbox = await open_outbox(receiver.url)
    assert await outbox.enqueue("plain-1", payload("plain-1"))
    await delivered(outbox, "plain-1")
    assert SIGNATURE_HEADER.lower() not in receiver.received[0].headers
