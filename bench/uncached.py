"""The uncached path (issue 17 §3): how long a caller waits for an answer that must be
synthesized when it is said, for espeak-ng and each vendor backend, and what the wait
words (the filler) do to what the caller hears.

Run with ``.venv/bin/python -m bench.uncached`` (a few minutes; ``--help`` for the
options). Everything runs on loopback as real processes where it matters:

- each vendor's fake (``tests/speech/vendors/fake_*.py``) answers as slowly as the vendor
  is assumed to (``bench/uncached_fakes.py`` says what is assumed and why), with audio as
  long as a voice would say the text; sherpa is the tests' model fixture (its own
  synthesis is instant, so its figures are the bot's pipeline only);
- ``voicebot fake-pbx`` plays the GX CTI: a late answer is pushed to it with
  ``PLAY_VOICE``, whose arrival (its clock is this process's ``time.monotonic``) is when
  the real answer became available;
- ``voicebot serve`` (``VOICEBOT_TTS=<backend>,espeak``, the default filler threshold
  ``VOICEBOT_KB_FILLER_MS`` of 600 ms and synthesis budget) serves the benchmark's flow
  and knowledge base (``bench/uncached_flow.py``).

For each backend, kind (a templated answer, a knowledge answer) and length (short,
medium, long), ``--repeats`` new calls are greeted (cached) and then ask for an answer
that nobody asked before. Each is timed from the callback's request: its answer; whether
that was the answer's audio or the filler; the download of the WAV it names; and, for a
filler, the push of the real answer. What the caller hears the answer at is the
answer's download, or, after a filler, the later of the filler's end and the push (the
GX manual does not say whether a pushed file cuts into the one playing: this assumes it
waits its turn). Nothing is asserted; the figures are printed and returned.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import statistics
import subprocess
import tempfile
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import uncached_flow as bench_flow
from bench.uncached_fakes import VENDOR_LATENCY, Assumed, VendorFakes, scaled
from tests.conftest import ADMIN_HEADERS
from tests.fakepbx import FakePBX, run_fake_pbx
from tests.loopback import unused_port
from tests.test_serve import start, stop, wait_for, wait_healthy

BACKENDS = ("espeak", "aliyun", "tencent", "iflytek", "baidu", "azure", "volcengine", "sherpa")
REPEATS = 3
FILLER_MS = 600
TURN_TIMEOUT_SECONDS = 30
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Heard:
    """One uncached answer, timed from its callback's request (milliseconds)."""

    backend: str
    kind: str
    length: str
    answer_ms: float
    filler: bool
    download_ms: float
    available_ms: float  # the real answer's URL in the CTI's hands: the answer, or the push
    heard_ms: float  # when the caller starts hearing the real answer
    filler_seconds: float  # how long the filler plays (0 when there was none)
    audio_seconds: float  # how long the real answer plays
    spoken_chars: int
    tts: str  # what said it (the transcript's): another backend than asked is a fallback


def telnum_of(serial: int) -> str:
    """A caller's number of its own for each call (so each templated answer is new)."""
    return f"139{serial:08d}"


class Cti:
    """Plays the CTI against one ``voicebot serve``, and reads the fake PBX's pushes."""

    def __init__(self, base: str, pbx: FakePBX) -> None:
        self.http = httpx.Client(base_url=base, timeout=TURN_TIMEOUT_SECONDS, headers=ADMIN_HEADERS)
        self.pbx = pbx

    def callback(self, call_id: str, telnum: str, txt: str) -> tuple[str, float]:
        """The answer (an audio URL) and when it came (monotonic)."""
        response = self.http.get("/cti/ai", params={"telnum": telnum, "txt": txt, "callid": call_id})
        response.raise_for_status()
        return response.text.strip(), time.monotonic()

    def fetch_seconds(self, url: str) -> tuple[float, float]:
        """Download a WAV as the CTI does: when the download ended (monotonic), and its length."""
        response = self.http.get(url.partition("?")[0])
        response.raise_for_status()
        ended = time.monotonic()
        with wave.open(io.BytesIO(response.content)) as audio:
            return ended, audio.getnframes() / audio.getframerate()

    def turn(self, call_id: str, asked: str) -> dict[str, Any]:
        """The call's transcript turn of ``asked``, once the turn has completed."""

        def completed() -> dict[str, Any] | None:
            found = self.http.get(f"/calls/{call_id}")
            if found.status_code != 200:
                return None
            turns = [t for t in found.json().get("turns", []) if t.get("text") == asked]
            done = turns and turns[-1].get("reply") is not None and not _pending(turns[-1])
            return turns[-1] if done else None

        turn = wait_for(completed, TURN_TIMEOUT_SECONDS)
        if not isinstance(turn, dict):
            raise RuntimeError(f"call {call_id}: the turn of {asked!r} did not complete")
        return turn

    def push(self, call_id: str) -> tuple[float, str]:
        """When the late answer's PLAY_VOICE reached the fake CTI (monotonic), and its URL."""

        def pushed() -> tuple[float, str] | None:
            for record in self.pbx.requests("gx"):
                query = record.get("query", {})
                if query.get("opt") == "PLAY_VOICE" and query.get("callid") == call_id:
                    return float(record["monotonic"]), str(query["voiceurl"])
            return None

        found = wait_for(pushed, TURN_TIMEOUT_SECONDS)
        if not isinstance(found, tuple):
            raise RuntimeError(f"call {call_id}: the late answer was never pushed")
        return found


def _pending(turn: dict[str, Any]) -> bool:
    """A turn answered with the filler whose real answer is not delivered yet."""
    return bool(turn.get("filler")) and not turn.get("delivered")


def ask(cti: Cti, backend: str, kind: str, length: str, serial: int) -> Heard:
    """One new call: greeted, then asking for an answer never said before."""
    call_id, telnum = f"{backend}-{kind}-{length}-{serial}", telnum_of(serial)
    asked = (
        bench_flow.TEMPLATE_ASKS[length]
        if kind == "template"
        else bench_flow.knowledge_question(length, serial)
    )
    cti.callback(call_id, telnum, "ready2speak")
    started = time.monotonic()
    url, answered = cti.callback(call_id, telnum, asked)
    downloaded, first_seconds = cti.fetch_seconds(url)
    turn = cti.turn(call_id, asked)
    filler = bool(turn.get("filler"))
    available, heard = answered, downloaded
    audio_seconds, filler_seconds = first_seconds, 0.0
    if filler:
        available, real_url = cti.push(call_id)
        pushed_download, audio_seconds = cti.fetch_seconds(real_url)
        filler_seconds = first_seconds
        heard = max(downloaded + filler_seconds, pushed_download)
    return Heard(
        backend=backend,
        kind=kind,
        length=length,
        answer_ms=_ms(answered - started),
        filler=filler,
        download_ms=_ms(downloaded - answered),
        available_ms=_ms(available - started),
        heard_ms=_ms(heard - started),
        filler_seconds=round(filler_seconds, 2),
        audio_seconds=round(audio_seconds, 2),
        spoken_chars=_spoken_chars(str(turn.get("reply") or "")),
        tts=str(turn.get("tts") or ""),
    )


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _spoken_chars(reply: str) -> int:
    """The answer's length as said (the menu question after it left out)."""
    from bot.speech.normalize import normalize_for_speech  # noqa: PLC0415  # light, but only here

    said = reply.removesuffix("请问还有什么可以帮您？").strip()
    return len(normalize_for_speech(said)) if said else 0


@contextmanager
def serving(workdir: Path, flows: Path, kb: Path, settings: dict[str, str]) -> Iterator[tuple[str, float]]:
    """A ``voicebot serve`` of the benchmark's flow; its base URL and start-up seconds."""
    port = unused_port()
    began = time.monotonic()
    process = start(workdir, flows, port, settings={"VOICEBOT_KB_DIR": str(kb), **settings})
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process, workdir)
        yield base, round(time.monotonic() - began, 2)
    finally:
        stop(process)


def measure(
    backend: str,
    fakes: VendorFakes,
    pbx: FakePBX,
    paths: tuple[Path, Path, Path],
    *,
    repeats: int,
    concurrency: int | None,
    filler_ms: int,
    code: Path | None = None,
) -> dict[str, Any]:
    """Every kind and length of uncached answer of one backend, ``repeats`` times each;
    ``code``: the checkout whose bot is served (default: this one)."""
    root, flows, kb = paths
    workdir = root / f"serve-{backend}"
    workdir.mkdir()
    settings = {
        **fakes.settings(backend),
        "VOICEBOT_DEFAULT_FLOW": bench_flow.FLOW_NAME,
        "VOICEBOT_PBX": "gx",
        "VOICEBOT_GX_URL": pbx.base,
        "VOICEBOT_KB_FILLER_MS": str(filler_ms),
        **({"VOICEBOT_TTS_CONCURRENCY": str(concurrency)} if concurrency is not None else {}),
        **({"PYTHONPATH": str(code)} if code else {}),
    }
    heard: list[Heard] = []
    with serving(workdir, flows, kb, settings) as (base, startup_seconds):
        cti = Cti(base, pbx)
        try:
            for serial in range(repeats):  # the cells interleaved, so a slow moment hits them all
                for kind in bench_flow.KINDS:
                    for length in bench_flow.LENGTHS:
                        heard.append(ask(cti, backend, kind, length, serial))
        finally:
            cti.http.close()
    return {
        "startup_seconds": startup_seconds,
        "cells": summarize(heard),
        "turns": [asdict(h) for h in heard],
    }


def summarize(heard: list[Heard]) -> dict[str, dict[str, Any]]:
    """Per kind and length: the medians, and how many answers were the filler."""
    cells: dict[str, dict[str, Any]] = {}
    for kind in bench_flow.KINDS:
        for length in bench_flow.LENGTHS:
            these = [h for h in heard if h.kind == kind and h.length == length]
            if not these:
                continue
            cells[f"{kind}/{length}"] = {
                "n": len(these),
                "spoken_chars": round(statistics.median(h.spoken_chars for h in these)),
                "answer_ms": _median(h.answer_ms for h in these),
                "fillers": sum(h.filler for h in these),
                "available_ms": _median(h.available_ms for h in these),
                "heard_ms": _median(h.heard_ms for h in these),
                "max_heard_ms": max(h.heard_ms for h in these),
                "audio_seconds": _median(h.audio_seconds for h in these),
                "fallbacks": sum(_fell_back(h) for h in these),
            }
    return cells


def _fell_back(heard: Heard) -> bool:
    """Whether another backend than the one measured said (part of) the answer."""
    asked = "espeak-ng" if heard.backend == "espeak" else heard.backend
    return any(part != asked for part in heard.tts.split("+"))


def _median(values: Any) -> float:
    return round(float(statistics.median(values)), 1)


def run(
    backends: tuple[str, ...] = BACKENDS,
    *,
    repeats: int = REPEATS,
    latency_scale: float = 1.0,
    concurrency: int | None = None,
    filler_ms: int = FILLER_MS,
    code: Path | None = None,
) -> dict[str, Any]:
    """Measure every backend; the JSON-able results. ``code``: serve the bot of another
    checkout (a ``git worktree`` of the code before a change), the rest staying this one's."""
    assumed = scaled(latency_scale) if latency_scale != 1.0 else VENDOR_LATENCY
    results: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "commit": _commit(code or ROOT),
        "repeats": repeats,
        "filler_ms": filler_ms,
        "tts_concurrency": concurrency,
        "assumed_latency": {name: _assumed_json(a) for name, a in assumed.items()},
        "backends": {},
    }
    with tempfile.TemporaryDirectory(prefix="uncached-") as scratch:
        root = Path(scratch)
        flows, kb = bench_flow.write(root, repeats)
        process, pbx_base = run_fake_pbx(root)
        pbx = FakePBX(pbx_base)
        try:
            with VendorFakes(assumed, root / "sherpa-model", _texts(repeats)) as fakes:
                for backend in backends:
                    results["backends"][backend] = measure(
                        backend,
                        fakes,
                        pbx,
                        (root, flows, kb),
                        repeats=repeats,
                        concurrency=concurrency,
                        filler_ms=filler_ms,
                        code=code,
                    )
                    print(report_backend(backend, results["backends"][backend]), flush=True)
        finally:
            pbx.http.close()
            stop(process)
    return results


def _assumed_json(assumed: Assumed) -> dict[str, Any]:
    latency = assumed.latency
    return {
        "first_byte_ms": latency.first_byte_ms,
        "per_char_ms": latency.per_char_ms,
        "total_ms_30_chars": round(latency.seconds("x" * 30) * 1000),
        "why": assumed.why,
    }


def _texts(repeats: int) -> list[str]:
    """Everything the benchmark's calls may hear, for the sherpa fixture's lexicon."""
    knowledge = [
        bench_flow.knowledge_answer(length, i) for length in bench_flow.LENGTHS for i in range(repeats)
    ]
    templates = [
        bench_flow.template_text(length, "13900000000", "2026-01-01") for length in bench_flow.LENGTHS
    ]
    return [bench_flow.FLOW, *knowledge, *templates, "零幺二三四五六七八九十两百千万"]


def _commit(checkout: Path) -> str:
    try:
        found = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=checkout, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return found.stdout.strip()


def report_backend(backend: str, measured: dict[str, Any]) -> str:
    """A backend's cells as lines of a table."""
    lines = [f"{backend} (start-up {measured['startup_seconds']} s)"]
    for cell, c in measured["cells"].items():
        lines.append(
            f"  {cell:<18} {c['spoken_chars']:>4} chars  answer {c['answer_ms']:>7.0f} ms  "
            f"filler {c['fillers']}/{c['n']}  available {c['available_ms']:>7.0f} ms  "
            f"heard {c['heard_ms']:>7.0f} ms (max {c['max_heard_ms']:.0f})  audio {c['audio_seconds']:.1f} s"
            + (f"  FALLBACKS {c['fallbacks']}" if c["fallbacks"] else "")
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated (default: all)")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="new calls per kind and length")
    parser.add_argument(
        "--latency-scale", type=float, default=1.0, help="the assumed vendor latencies times this"
    )
    parser.add_argument(
        "--concurrency", type=int, help="VOICEBOT_TTS_CONCURRENCY (default: unset, the bot's own default)"
    )
    parser.add_argument(
        "--filler-ms", type=int, default=FILLER_MS, help="VOICEBOT_KB_FILLER_MS (default 600)"
    )
    parser.add_argument("--code", type=Path, help="serve the bot of this checkout (e.g. a git worktree)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    options = parser.parse_args()
    backends = tuple(b.strip() for b in options.backends.split(",") if b.strip())
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        parser.error(f"unknown backends: {', '.join(sorted(unknown))} (known: {', '.join(BACKENDS)})")
    results = run(
        backends,
        repeats=options.repeats,
        latency_scale=options.latency_scale,
        concurrency=options.concurrency,
        filler_ms=options.filler_ms,
        code=options.code.resolve() if options.code else None,
    )
    if options.json:
        options.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
