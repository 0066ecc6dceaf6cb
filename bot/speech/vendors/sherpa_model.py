"""A sherpa-onnx text-to-speech model on disk: which kind it is and which files it uses.

The deployer unpacks one of sherpa-onnx's published model archives into
``VOICEBOT_TTS_SHERPA_MODEL_DIR``; :func:`detect_layout` reads the kind from the files
present, the way sherpa-onnx's own examples name them:

- **Kokoro**: ``voices.bin`` beside the model, ``tokens.txt``, ``lexicon-zh.txt`` (and
  ``lexicon-us-en.txt`` for English words) and ``espeak-ng-data/``.
- **Matcha**: an acoustic model (``model-steps-3.onnx``) and a vocoder that is fetched
  separately (``hifigan_v2.onnx``, ``vocos-*.onnx``), ``tokens.txt``, ``lexicon.txt``.
- **VITS**: otherwise: the model, ``tokens.txt`` and ``lexicon.txt`` (or, for models
  that phonemise with espeak-ng, ``espeak-ng-data/``).

Text-normalisation rules beside the model (``*.fst``, ``*.far``) are used too; a
``dict/`` directory is not (sherpa-onnx 1.12.15 and later segment Chinese without it).

A file that is missing or unreadable is a :class:`~bot.errors.ConfigError` naming the
file and what to fetch. The model is not loaded here: that is the worker's job
(:mod:`bot.speech.vendors.sherpa_worker`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.errors import ConfigError

ModelKind = Literal["vits", "matcha", "kokoro"]

SETTING = "VOICEBOT_TTS_SHERPA_MODEL_DIR"
FETCH = (
    "fetch a sherpa-onnx model archive on a machine with internet access (e.g. "
    "vits-icefall-zh-aishell3.tar.bz2 from the tts-models release of k2-fsa/sherpa-onnx), "
    "unpack it and copy the directory here (docs/speech.md, the sherpa backend)"
)
VOCODER_PREFIXES = ("hifigan", "vocos")
# Phone numbers and dates before plain numbers, as sherpa-onnx's Chinese examples apply
# them (else number.fst reads a phone number as a count); others follow by name.
RULE_ORDER = ("date", "phone", "number", "new_heteronym")
ESPEAK_DATA_FILES = ("phontab", "phonindex", "phondata", "intonations")
_SAMPLED_BYTES = 1 << 20


@dataclass(frozen=True)
class ModelLayout:
    """The files of one model, as sherpa-onnx's configuration takes them.

    Attributes:
        directory: The model directory.
        kind: ``vits``, ``matcha`` or ``kokoro``.
        model: The (acoustic) model.
        tokens: The token table.
        lexicons: The lexicons, in the order sherpa-onnx reads them.
        vocoder: Matcha's vocoder.
        voices: Kokoro's speaker embeddings.
        data_dir: espeak-ng's data, for models that phonemise with it.
        rule_fsts: Text-normalisation rules (``*.fst``), in order.
        rule_fars: Archives of such rules (``*.far``).
    """

    directory: Path
    kind: ModelKind
    model: Path
    tokens: Path
    lexicons: tuple[Path, ...] = ()
    vocoder: Path | None = None
    voices: Path | None = None
    data_dir: Path | None = None
    rule_fsts: tuple[Path, ...] = ()
    rule_fars: tuple[Path, ...] = ()

    def files(self) -> list[Path]:
        """The files the model is made of (espeak-ng's data directory aside)."""
        single = [self.model, self.vocoder, self.voices, self.tokens]
        return [*(p for p in single if p is not None), *self.lexicons, *self.rule_fsts, *self.rule_fars]

    def fingerprint(self) -> str:
        """What identifies the model's audio: each file's name, size, first and last MiB
        (and the names and sizes of espeak-ng's data files).

        Modification times are left out on purpose, so that two servers given copies of
        one model agree (the audio cache's keys are shared through Redis); a model
        replaced by another of equal size still differs in its bytes.

        Raises:
            ConfigError: A file cannot be read.
        """
        digest = hashlib.sha256()
        for path in self.files():
            digest.update(f"{path.relative_to(self.directory)}\0".encode())
            digest.update(_sampled(path))
        if self.data_dir is not None:
            for path in sorted(p for p in self.data_dir.rglob("*") if p.is_file()):
                digest.update(f"{path.relative_to(self.directory)}\0{path.stat().st_size}\0".encode())
        return digest.hexdigest()[:16]

    def worker_config(self, *, threads: int) -> dict[str, object]:
        """The settings the worker process builds sherpa-onnx's configuration from."""
        return {
            "kind": self.kind,
            "model": str(self.model),
            "tokens": str(self.tokens),
            "lexicon": ",".join(str(p) for p in self.lexicons),
            "vocoder": str(self.vocoder or ""),
            "voices": str(self.voices or ""),
            "data_dir": str(self.data_dir or ""),
            "rule_fsts": ",".join(str(p) for p in self.rule_fsts),
            "rule_fars": ",".join(str(p) for p in self.rule_fars),
            "threads": threads,
        }


def detect_layout(directory: Path, *, model_file: str | None = None) -> ModelLayout:
    """Which kind of model ``directory`` holds, and its files.

    Args:
        directory: An unpacked sherpa-onnx model.
        model_file: The model's file name, when the directory holds several ``.onnx``
            files besides a vocoder (``VOICEBOT_TTS_SHERPA_MODEL_FILE``).

    Raises:
        ConfigError: The directory or a file the model needs is missing or unreadable,
            or the model file is ambiguous; the message names the file and the fix.
    """
    names = _listing(directory)
    onnx = sorted(n for n in names if n.endswith(".onnx") and (directory / n).is_file())
    vocoders = [n for n in onnx if n.startswith(VOCODER_PREFIXES)]
    model = directory / _model_name([n for n in onnx if n not in vocoders], directory, model_file)
    kind: ModelKind = "vits"
    if "voices.bin" in names:
        kind = "kokoro"
    elif vocoders or model.name.startswith("model-steps"):
        kind = "matcha"
    layout = ModelLayout(
        directory=directory,
        kind=kind,
        model=model,
        tokens=_required(directory / "tokens.txt", "the model's token table"),
        lexicons=_lexicons(directory, names, kind),
        vocoder=_vocoder(directory, vocoders) if kind == "matcha" else None,
        voices=directory / "voices.bin" if kind == "kokoro" else None,
        data_dir=_espeak_data(directory, required=kind == "kokoro"),
        rule_fsts=_rules(directory, names, ".fst"),
        rule_fars=_rules(directory, names, ".far"),
    )
    if kind != "kokoro" and not layout.lexicons and layout.data_dir is None:
        _required(directory / "lexicon.txt", "the model's pronunciations of Chinese characters")
    for path in layout.files():
        _check_readable(path)
    return layout


def _listing(directory: Path) -> set[str]:
    if "," in str(directory):  # sherpa-onnx takes lists of files comma-separated
        raise ConfigError(f"{SETTING}={directory}: the path must not contain a comma; move the model")
    try:
        return set(os.listdir(directory))
    except FileNotFoundError:
        raise ConfigError(f"{SETTING}={directory}: no such directory; {FETCH}") from None
    except NotADirectoryError:
        raise ConfigError(f"{SETTING}={directory} is a file, not a model directory; {FETCH}") from None
    except OSError as exc:
        raise ConfigError(f"{SETTING}={directory} cannot be read ({exc.strerror})") from exc


def _model_name(candidates: list[str], directory: Path, model_file: str | None) -> str:
    """The model among the directory's .onnx files that are not a vocoder."""
    if model_file is not None:
        if model_file not in candidates:
            found = ", ".join(candidates) or "none"
            raise ConfigError(
                f"VOICEBOT_TTS_SHERPA_MODEL_FILE={model_file}: no such model in {directory} (found: {found})"
            )
        return model_file
    if not candidates:
        raise ConfigError(f"{SETTING}={directory} holds no model (.onnx file); {FETCH}")
    full = [n for n in candidates if not n.endswith(".int8.onnx")]
    if "model.onnx" in full:
        return "model.onnx"
    for choice in (full, candidates):
        if len(choice) == 1:
            return choice[0]
    raise ConfigError(
        f"{SETTING}={directory} holds several models ({', '.join(candidates)}); "
        "name one in VOICEBOT_TTS_SHERPA_MODEL_FILE"
    )


def _lexicons(directory: Path, names: set[str], kind: ModelKind) -> tuple[Path, ...]:
    if kind != "kokoro":
        return (directory / "lexicon.txt",) if "lexicon.txt" in names else ()
    # As sherpa-onnx's Kokoro examples pass them: American English, then Chinese (a
    # British lexicon beside them would only repeat its words).
    chinese = sorted(n for n in names if n.startswith("lexicon") and n.endswith(".txt") and "zh" in n)
    if not chinese:
        raise ConfigError(
            f"{directory / 'lexicon-zh.txt'} is missing: this Kokoro model has no Chinese lexicon "
            "and cannot speak Mandarin; use kokoro-multi-lang-v1_0 (or later) and unpack the whole archive"
        )
    english = ["lexicon-us-en.txt"] if "lexicon-us-en.txt" in names else []
    return tuple(directory / n for n in (*english, *chinese))


def _vocoder(directory: Path, vocoders: list[str]) -> Path:
    if not vocoders:
        raise ConfigError(
            f"{directory} holds a Matcha acoustic model but no vocoder: fetch hifigan_v2.onnx or "
            "vocos-22khz-univ.onnx (vocos-16khz-univ.onnx for a 16 kHz model) from the "
            "vocoder-models release of k2-fsa/sherpa-onnx into the directory"
        )
    if len(vocoders) > 1:
        raise ConfigError(f"{directory} holds several vocoders ({', '.join(vocoders)}); keep one")
    return directory / vocoders[0]


def _espeak_data(directory: Path, *, required: bool) -> Path | None:
    data_dir = directory / "espeak-ng-data"
    if not data_dir.is_dir():
        if required:
            _required(data_dir, "espeak-ng's data, which Kokoro reads English with")
        return None
    for name in ESPEAK_DATA_FILES:
        _required(data_dir / name, "part of espeak-ng's data")
    return data_dir


def _rules(directory: Path, names: set[str], suffix: str) -> tuple[Path, ...]:
    def order(name: str) -> tuple[int, str]:
        stem = name.removesuffix(suffix)
        ranks = [i for i, rule in enumerate(RULE_ORDER) if stem in (rule, f"{rule}-zh")]
        return (ranks[0] if ranks else len(RULE_ORDER), name)

    return tuple(directory / n for n in sorted((n for n in names if n.endswith(suffix)), key=order))


def _required(path: Path, what: str) -> Path:
    if not path.exists():
        raise ConfigError(f"{path} is missing: {what}; unpack the model's whole archive there ({FETCH})")
    return path


def _check_readable(path: Path) -> None:
    try:
        with path.open("rb") as file:
            file.read(1)
    except OSError as exc:
        raise ConfigError(
            f"cannot read {path} ({exc.strerror}); fix its permissions or copy it again"
        ) from exc


def _sampled(path: Path) -> bytes:
    """A file's size with its first and last MiB (all of a small file)."""
    try:
        with path.open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            head = file.read(_SAMPLED_BYTES)
            if size > 2 * _SAMPLED_BYTES:
                file.seek(-_SAMPLED_BYTES, os.SEEK_END)
            tail = file.read(_SAMPLED_BYTES)
    except OSError as exc:
        raise ConfigError(
            f"cannot read {path} ({exc.strerror}); fix its permissions or copy it again"
        ) from exc
    return f"{size}\0".encode() + head + tail


def _unreadable(path: Path, exc: OSError) -> ConfigError:
    return ConfigError(f"cannot read {path} ({exc.strerror}); fix its permissions or copy it again")
