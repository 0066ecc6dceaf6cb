"""The sherpa backend: real sherpa-onnx in its worker process, on a model-shaped fixture.

The model is not a voice but a tiny VITS-shaped graph sherpa-onnx really loads and runs
(``sherpa_fixture``: no registry package ships a Mandarin model small enough); its
audio has an exact length and loudness for a text, a speed and a speaker, which only
the real loading code, frontend and inference produce. The layouts of the published
models (VITS, Matcha, Kokoro) are checked on their file names alone.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import numpy as np
import psutil
import pytest

from bot.config import Settings, load_settings
from bot.errors import ConfigError, TTSError
from bot.speech.backends import build_backends, check_backends, close_backends
from bot.speech.cache import AudioCache
from bot.speech.espeak import EspeakTTS
from bot.speech.synthesizer import SpeechSynthesizer
from bot.speech.vendors import sherpa
from bot.speech.vendors.sherpa import SherpaTTS
from bot.speech.vendors.sherpa_model import ModelLayout, detect_layout
from bot.speech.vendors.sherpa_process import WORKER_SCRIPT
from bot.speech.wav import read_pcm

from .sherpa_fixture import SAMPLE_RATE, SPEAKERS, samples_of, write_vits_model

TEXT = "您好，请稍等。"
UNKNOWN_WORDS = "xyz"  # nothing the fixture's lexicon knows


def settings(tmp_path: Path, **values: object) -> Settings:
    return load_settings(data_dir=tmp_path, **values)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_vits_model(tmp_path_factory.mktemp("sherpa") / "vits-fixture")


Make = Callable[..., SherpaTTS]


@pytest.fixture
async def make(model_dir: Path) -> AsyncIterator[Make]:
    made: list[SherpaTTS] = []

    def make_backend(directory: Path = model_dir, **options: object) -> SherpaTTS:
        backend = SherpaTTS(detect_layout(directory), **options)  # type: ignore[arg-type]
        made.append(backend)
        return backend

    yield make_backend
    for backend in made:
        await backend.aclose()


def workers() -> list[int]:
    """The pids of this process's sherpa workers."""
    children = psutil.Process().children()
    return [p.pid for p in children if str(WORKER_SCRIPT) in " ".join(p.cmdline())]


def peak(wav: bytes) -> float:
    samples = np.frombuffer(read_pcm(wav).frames, dtype="<i2")
    return float(np.abs(samples).max()) / 32767


# --- speaking ---


async def test_the_model_speaks_a_wav_at_its_rate_and_length(make: Make) -> None:
    wav = await make().synthesize(TEXT)
    pcm = read_pcm(wav)
    assert (pcm.rate, pcm.channels, pcm.width) == (SAMPLE_RATE, 1, 2)
    assert len(pcm.frames) // 2 == samples_of(TEXT) == 12 * 256
    assert peak(wav) == pytest.approx(0.1, abs=0.001)


@pytest.mark.parametrize(
    ("speed", "speaker_id"), [(2.0, 0), (0.5, 3), (1.25, 1)], ids=["fast", "slow", "between"]
)
async def test_speed_and_speaker_reach_the_model(make: Make, speed: float, speaker_id: int) -> None:
    wav = await make(speed=speed, speaker_id=speaker_id).synthesize(TEXT)
    assert len(read_pcm(wav).frames) // 2 == samples_of(TEXT, speed)
    assert peak(wav) == pytest.approx(0.1 * (speaker_id + 1), abs=0.001)


async def test_concurrent_texts_are_spoken_one_at_a_time_by_one_worker(make: Make) -> None:
    backend = make()
    texts = ["您好", TEXT, "请稍等", "您好！您好？"]
    wavs = await asyncio.gather(*(backend.synthesize(t) for t in texts))
    assert [len(read_pcm(w).frames) // 2 for w in wavs] == [samples_of(t) for t in texts]
    assert len(workers()) == 1


async def test_the_start_up_check_loads_the_model_and_lists_its_speakers(
    make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    backend = make(speaker_id=3)
    with caplog.at_level(logging.INFO, logger="bot.speech.vendors.sherpa"):
        description = await backend.check()
    assert f"({SAMPLE_RATE} Hz, {SPEAKERS} speakers), speaker 3" in description
    assert "speech backend ready" in caplog.text
    voices = await backend.voices()
    assert [v.name for v in voices] == ["0", "1", "2", "3"]
    assert sherpa.VOICES[0].name == "0"


async def test_a_text_of_unknown_words_is_an_error_that_never_shows_the_text(
    make: Make, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # sherpa-onnx writes "OOV xyz" and "Failed to convert 'xyz' to token IDs" to its stderr;
    # in the worker that goes to a pipe the backend reads and never shows.
    backend = make()
    with (
        caplog.at_level(logging.DEBUG),
        pytest.raises(TTSError, match="made no audio for a 3-character") as caught,
    ):
        await backend.synthesize(UNKNOWN_WORDS)
    assert UNKNOWN_WORDS not in str(caught.value)
    assert UNKNOWN_WORDS not in caplog.text
    captured = capfd.readouterr()
    assert UNKNOWN_WORDS not in captured.out + captured.err
    # The worker lives on: the next text is spoken.
    assert len(read_pcm(await backend.synthesize("您好")).frames) // 2 == samples_of("您好")
    assert "not shown" in caplog.text  # the worker's stderr was read, and only counted
    assert UNKNOWN_WORDS not in caplog.text


async def test_a_speaker_the_model_lacks_is_named_with_the_range(make: Make) -> None:
    with pytest.raises(TTSError, match=r"SPEAKER_ID=4, but the model has 4 speaker\(s\): 0 to 3"):
        await make(speaker_id=4).synthesize(TEXT)


async def test_a_model_sherpa_onnx_cannot_use_fails_the_check_and_the_service_survives(
    make: Make, tmp_path: Path
) -> None:
    # Without "comment" in its metadata sherpa-onnx calls _Exit(-1): here, in the worker.
    broken = write_vits_model(tmp_path / "broken", drop_metadata=("comment",))
    with pytest.raises(
        TTSError, match=r"cannot load the model \(exit status 255\): 'comment' does not exist"
    ):
        await make(broken).check()


async def test_a_worker_that_died_is_replaced_by_the_next_text(make: Make) -> None:
    backend = make()
    await backend.synthesize("您好")
    [first] = workers()
    os.kill(first, signal.SIGKILL)
    wav = await backend.synthesize(TEXT)
    assert len(read_pcm(wav).frames) // 2 == samples_of(TEXT)
    assert workers() not in ([], [first])


async def test_a_text_over_the_time_limit_kills_the_worker_and_the_next_starts_another(
    make: Make, tmp_path: Path
) -> None:
    # 400 000 samples per token: far more than can be made and sent within 1 ms.
    slow = write_vits_model(tmp_path / "slow", samples_per_token=400_000)
    backend = make(slow, request_timeout_seconds=0.001)
    await backend.voices()  # loaded first: loading does not count
    with pytest.raises(TTSError, match=r"took longer than 0\.001 s for a 2-character text"):
        await backend.synthesize("您好")
    assert workers() == []
    assert (await backend.voices())[0].name == "0"  # a new worker


async def test_a_text_the_caller_gave_up_on_is_finished_for_the_next(make: Make, tmp_path: Path) -> None:
    slow = write_vits_model(tmp_path / "slow", samples_per_token=200_000)
    backend = make(slow)
    await backend.voices()
    [worker] = workers()
    busy_from = psutil.Process(worker).cpu_times().user
    first = asyncio.create_task(backend.synthesize(TEXT))
    for _ in range(1000):  # until the worker is busy with the text
        await asyncio.sleep(0.005)
        if psutil.Process(worker).cpu_times().user > busy_from + 0.02:
            break
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    wav = await backend.synthesize("您好")
    assert len(read_pcm(wav).frames) // 2 == samples_of("您好") * 200_000 // 256
    assert workers() == [worker]  # its answer was read: the worker was not killed to resync


# --- identity ---


def test_identity_follows_the_model_bytes_speaker_and_speed_not_the_copy(tmp_path: Path) -> None:
    original = write_vits_model(tmp_path / "a")
    copy = tmp_path / "b"
    shutil.copytree(original, copy)  # new modification times
    os.utime(copy / "model.onnx", (1, 1))
    other = write_vits_model(tmp_path / "c", sample_rate=22050)

    def identity(directory: Path, **options: object) -> dict[str, object]:
        return dict(SherpaTTS(detect_layout(directory), **options).identity())  # type: ignore[arg-type]

    assert identity(original) == identity(copy)
    assert identity(original)["model"] != identity(other)["model"]
    assert identity(original) != identity(original, speaker_id=1)
    assert identity(original) != identity(original, speed=1.5)
    assert identity(original) == identity(original, threads=4)


# --- layouts ---


def touch(directory: Path, *names: str) -> Path:
    for name in names:
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    return directory


ICEFALL_AISHELL3 = ("model.onnx", "tokens.txt", "lexicon.txt", "number.fst", "new_heteronym.fst", "phone.fst")
ESPEAK_DATA = tuple(f"espeak-ng-data/{n}" for n in ("phontab", "phonindex", "phondata", "intonations"))
KOKORO_V1 = (
    "model.onnx",
    "voices.bin",
    "tokens.txt",
    "lexicon-zh.txt",
    "lexicon-us-en.txt",
    "lexicon-gb-en.txt",
    "number-zh.fst",
    "date-zh.fst",
    "phone-zh.fst",
    *ESPEAK_DATA,
)


def test_a_vits_model_with_its_rules_in_sherpa_onnx_order(tmp_path: Path) -> None:
    layout = detect_layout(touch(tmp_path, *ICEFALL_AISHELL3, "date.fst", "rule.far", "dict/jieba.dict.utf8"))
    assert (layout.kind, layout.model.name, layout.tokens.name) == ("vits", "model.onnx", "tokens.txt")
    assert [p.name for p in layout.lexicons] == ["lexicon.txt"]
    assert [p.name for p in layout.rule_fsts] == ["date.fst", "phone.fst", "number.fst", "new_heteronym.fst"]
    assert [p.name for p in layout.rule_fars] == ["rule.far"]
    assert (layout.vocoder, layout.voices, layout.data_dir) == (None, None, None)


def test_the_full_precision_model_unless_one_is_named(tmp_path: Path) -> None:
    touch(tmp_path, "vits-aishell3.onnx", "vits-aishell3.int8.onnx", "tokens.txt", "lexicon.txt")
    assert detect_layout(tmp_path).model.name == "vits-aishell3.onnx"
    named = detect_layout(tmp_path, model_file="vits-aishell3.int8.onnx")
    assert named.model.name == "vits-aishell3.int8.onnx"


def test_a_matcha_model_with_its_vocoder(tmp_path: Path) -> None:
    layout = detect_layout(
        touch(tmp_path, "model-steps-3.onnx", "hifigan_v2.onnx", "tokens.txt", "lexicon.txt")
    )
    assert layout.kind == "matcha"
    assert (layout.model.name, layout.vocoder) == ("model-steps-3.onnx", tmp_path / "hifigan_v2.onnx")
    config = layout.worker_config(threads=3)
    assert (config["vocoder"], config["threads"]) == (str(tmp_path / "hifigan_v2.onnx"), 3)


def test_a_kokoro_model_with_both_lexicons_and_espeak_data(tmp_path: Path) -> None:
    layout = detect_layout(touch(tmp_path, *KOKORO_V1))
    assert layout.kind == "kokoro"
    assert layout.voices == tmp_path / "voices.bin"
    assert [p.name for p in layout.lexicons] == ["lexicon-us-en.txt", "lexicon-zh.txt"]
    assert layout.data_dir == tmp_path / "espeak-ng-data"
    assert [p.name for p in layout.rule_fsts] == ["date-zh.fst", "phone-zh.fst", "number-zh.fst"]
    assert (
        layout.worker_config(threads=1)["lexicon"]
        == f"{tmp_path}/lexicon-us-en.txt,{tmp_path}/lexicon-zh.txt"
    )


@pytest.mark.parametrize(
    ("files", "model_file", "message"),
    [
        ((), None, "holds no model"),
        (("model.onnx", "lexicon.txt"), None, r"tokens\.txt is missing: the model's token table"),
        (("model.onnx", "tokens.txt"), None, r"lexicon\.txt is missing"),
        (("a.onnx", "b.onnx", "tokens.txt"), None, r"several models \(a\.onnx, b\.onnx\).*MODEL_FILE"),
        (ICEFALL_AISHELL3, "other.onnx", r"MODEL_FILE=other\.onnx: no such model .*found: model\.onnx"),
        (("model-steps-3.onnx", "tokens.txt", "lexicon.txt"), None, r"no vocoder: fetch hifigan_v2\.onnx"),
        (("model-steps-3.onnx", "hifigan_v1.onnx", "vocos-22khz-univ.onnx", "tokens.txt"), None, "keep one"),
        (tuple(n for n in KOKORO_V1 if n != "lexicon-zh.txt"), None, r"lexicon-zh\.txt is missing.*Mandarin"),
        (tuple(n for n in KOKORO_V1 if not n.startswith("espeak")), None, "espeak-ng-data is missing"),
        ((*KOKORO_V1[:-1],), None, r"espeak-ng-data/intonations is missing"),
    ],
    ids=[
        "empty",
        "no-tokens",
        "no-lexicon",
        "several-models",
        "model-file-absent",
        "matcha-no-vocoder",
        "two-vocoders",
        "kokoro-english-only",
        "kokoro-no-espeak-data",
        "espeak-data-incomplete",
    ],
)
def test_a_layout_that_cannot_work_names_the_file_and_the_fix(
    tmp_path: Path, files: tuple[str, ...], model_file: str | None, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        detect_layout(touch(tmp_path, *files), model_file=model_file)


def test_a_missing_directory_says_what_to_fetch(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"no such directory; fetch a sherpa-onnx model archive .*tts-models"
    ):
        detect_layout(tmp_path / "absent")
    with pytest.raises(ConfigError, match="is a file, not a model directory"):
        detect_layout(touch(tmp_path, "model.onnx") / "model.onnx")


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    touch(tmp_path, "model.onnx", "tokens.txt")
    (tmp_path / "lexicon.txt").mkdir()  # exists, but cannot be read as a file
    with pytest.raises(ConfigError, match=rf"cannot read {tmp_path}/lexicon\.txt \(Is a directory\)"):
        detect_layout(tmp_path)


def test_a_path_with_a_comma_is_refused(tmp_path: Path) -> None:
    # sherpa-onnx takes lists of files comma-separated: such a path would be cut in two.
    with pytest.raises(ConfigError, match="must not contain a comma"):
        detect_layout(touch(tmp_path / "a,b", *ICEFALL_AISHELL3))


# --- settings and the chain ---


def test_build_reads_the_settings(tmp_path: Path, model_dir: Path) -> None:
    backend = sherpa.build(
        settings(tmp_path, tts_sherpa_model_dir=model_dir, tts_sherpa_speaker_id=2, tts_sherpa_speed=0.8)
    )
    assert isinstance(backend.layout, ModelLayout)
    assert (backend.speaker_id, backend.speed, backend.threads) == (2, 0.8, 2)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"tts": "sherpa"}, "VOICEBOT_TTS_SHERPA_MODEL_DIR is not set; fetch"),
        ({"tts": "sherpa", "tts_sherpa_model_dir": "/nonexistent/model"}, "no such directory"),
        ({"tts_sherpa_speed": 3}, "VOICEBOT_TTS_SHERPA_SPEED"),
        ({"tts_sherpa_speaker_id": -1}, "VOICEBOT_TTS_SHERPA_SPEAKER_ID"),
        ({"tts_sherpa_threads": 0}, "VOICEBOT_TTS_SHERPA_THREADS"),
        ({"tts_sherpa_model_file": "../model.onnx"}, "VOICEBOT_TTS_SHERPA_MODEL_FILE"),
    ],
    ids=["no-dir", "absent-dir", "speed", "speaker", "threads", "model-file"],
)
def test_settings_that_cannot_work_name_themselves(
    tmp_path: Path, values: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        build_backends(settings(tmp_path, **values))


async def test_the_chain_speaks_with_sherpa_and_converts_to_the_served_format(
    tmp_path: Path, model_dir: Path
) -> None:
    chain = build_backends(settings(tmp_path, tts="sherpa,espeak", tts_sherpa_model_dir=model_dir))
    try:
        assert [type(b) for b in chain] == [SherpaTTS, EspeakTTS]
        await check_backends(chain)
        synth = SpeechSynthesizer(chain, AudioCache(tmp_path / "audio"))
        clip = await synth.render("您好")
        assert clip.backend == "sherpa"
        served = read_pcm(clip.path.read_bytes())
        assert (served.rate, served.channels, served.width) == (8000, 1, 2)
        assert len(served.frames) // 2 == pytest.approx(samples_of("您好") / 2, abs=2)
    finally:
        await close_backends(chain)


async def test_a_broken_model_leaves_the_chain_to_espeak(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = write_vits_model(tmp_path / "broken", drop_metadata=("n_speakers",))
    chain = build_backends(settings(tmp_path, tts="sherpa,espeak", tts_sherpa_model_dir=broken))
    try:
        with caplog.at_level(logging.WARNING):
            await check_backends(chain)
        assert "speech backend sherpa failed its start-up check" in caplog.text
        assert "'n_speakers' does not exist in the metadata" in caplog.text
        clip = await SpeechSynthesizer(chain, AudioCache(tmp_path / "audio")).render("您好")
        assert clip.backend == "espeak-ng"
    finally:
        await close_backends(chain)
