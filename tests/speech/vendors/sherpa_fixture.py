"""A model-shaped fixture for the sherpa backend: a tiny VITS model sherpa-onnx really loads.

No registry package ships a sherpa-onnx Mandarin voice small enough for the tests (the
published ones are 37 MB to 330 MB archives), so this writes one that has the shape
sherpa-onnx reads, not a voice: an ONNX graph with the inputs and outputs of the VITS
models sherpa-onnx runs (``x``, ``x_length``, ``noise_scale``, ``length_scale``,
``noise_scale_w``, ``sid`` → audio, as ``OfflineTtsVitsModel::RunVits`` feeds them in
sherpa-onnx's ``csrc/offline-tts-vits-model.cc``), the metadata that file reads
(``sample_rate``, ``n_speakers``, ``language``, ``comment``, ``punctuation``,
``add_blank``; a missing required key ends sherpa-onnx's process), and a ``tokens.txt``
and ``lexicon.txt`` in the format of ``csrc/lexicon.cc`` (``token id`` and
``word phone phone…`` per line).

What it "says" is measurable: a 440 Hz tone of ``round(SAMPLES_PER_TOKEN * length_scale)``
samples per token (sherpa-onnx passes ``length_scale = 1 / speed``), at an amplitude of
``0.1 × (speaker + 1)``. So a test knows the exact length and loudness of the audio a text,
a speed and a speaker must give, which only the real frontend (lexicon, punctuation) and
the real inference path can produce.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SAMPLE_RATE = 16000
SPEAKERS = 4
SAMPLES_PER_TOKEN = 256
LEXICON = {"您": "n in2", "好": "h ao3", "请": "q ing3", "稍": "sh ao1", "等": "d eng3"}
PUNCTUATION = ("，", "。", "！", "？")
METADATA: dict[str, str] = {
    "model_type": "vits",
    "comment": "voicebot test fixture",  # no "piper", "coqui" or "melo": the plain VITS path
    "language": "Chinese",
    "add_blank": "0",
    "punctuation": " ".join(PUNCTUATION),
}


def tokens_of(text: str) -> int:
    """How many tokens sherpa-onnx's Chinese lexicon frontend makes of ``text``: each
    known character's phones, and each punctuation mark (the fixture has tokens for them)."""
    return sum(len(LEXICON[c].split()) if c in LEXICON else c in PUNCTUATION for c in text)


def samples_of(text: str, speed: float = 1.0) -> int:
    """How many samples the fixture says ``text`` in at ``speed``."""
    return tokens_of(text) * round(SAMPLES_PER_TOKEN / speed)


def write_vits_model(
    directory: Path,
    *,
    sample_rate: int = SAMPLE_RATE,
    speakers: int = SPEAKERS,
    samples_per_token: int = SAMPLES_PER_TOKEN,
    drop_metadata: tuple[str, ...] = (),
) -> Path:
    """Write ``model.onnx``, ``tokens.txt`` and ``lexicon.txt`` into ``directory``.

    Args:
        directory: Created if missing.
        sample_rate: The model's ``sample_rate`` metadata (and its tone's rate).
        speakers: ``n_speakers``.
        samples_per_token: Samples per token at speed 1.
        drop_metadata: Metadata keys to leave out (a model sherpa-onnx cannot use).

    Returns:
        ``directory``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    metadata = {**METADATA, "sample_rate": str(sample_rate), "n_speakers": str(speakers)}
    model = _graph(sample_rate, samples_per_token)
    for key, value in metadata.items():
        if key not in drop_metadata:
            model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    onnx.save(model, str(directory / "model.onnx"))
    phones = sorted({p for entry in LEXICON.values() for p in entry.split()})
    symbols = [*phones, *PUNCTUATION]
    (directory / "tokens.txt").write_text("".join(f"{s} {i}\n" for i, s in enumerate(symbols, 1)), "utf-8")
    (directory / "lexicon.txt").write_text("".join(f"{w} {p}\n" for w, p in LEXICON.items()), "utf-8")
    return directory


def _graph(sample_rate: int, samples_per_token: int) -> onnx.ModelProto:
    """audio[1, 1, T] = 0.1 × (sid + 1) × sin(2π·440·t / rate), T = tokens × round(spt × length_scale)."""

    def const(name: str, value: np.ndarray) -> onnx.NodeProto:
        return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(value, name))

    nodes = [
        helper.make_node("Shape", ["x"], ["x_shape"]),
        const("one", np.array([1], np.int64)),
        const("two", np.array([2], np.int64)),
        helper.make_node("Slice", ["x_shape", "one", "two"], ["tokens"]),
        const("per_token", np.array([float(samples_per_token)], np.float32)),
        helper.make_node("Mul", ["length_scale", "per_token"], ["hop"]),
        helper.make_node("Round", ["hop"], ["hop_rounded"]),
        helper.make_node("Cast", ["hop_rounded"], ["hop_int"], to=TensorProto.INT64),
        helper.make_node("Mul", ["tokens", "hop_int"], ["total"]),
        helper.make_node("Cast", ["total"], ["total_float"], to=TensorProto.FLOAT),
        helper.make_node("Squeeze", ["total_float"], ["limit"]),
        const("zero_f", np.array(0.0, np.float32)),
        const("one_f", np.array(1.0, np.float32)),
        helper.make_node("Range", ["zero_f", "limit", "one_f"], ["t"]),
        const("omega", np.array([2 * math.pi * 440 / sample_rate], np.float32)),
        helper.make_node("Mul", ["t", "omega"], ["phase"]),
        helper.make_node("Sin", ["phase"], ["tone"]),
        helper.make_node("Cast", ["sid"], ["sid_f"], to=TensorProto.FLOAT),
        helper.make_node("Add", ["sid_f", "one_f"], ["speaker_number"]),
        const("tenth", np.array([0.1], np.float32)),
        helper.make_node("Mul", ["speaker_number", "tenth"], ["amplitude"]),
        helper.make_node("Mul", ["tone", "amplitude"], ["audio"]),
        const("y_shape", np.array([1, 1, -1], np.int64)),
        helper.make_node("Reshape", ["audio", "y_shape"], ["y"]),
    ]
    inputs = [
        helper.make_tensor_value_info("x", TensorProto.INT64, [1, "N"]),
        helper.make_tensor_value_info("x_length", TensorProto.INT64, [1]),
        helper.make_tensor_value_info("noise_scale", TensorProto.FLOAT, [1]),
        helper.make_tensor_value_info("length_scale", TensorProto.FLOAT, [1]),
        helper.make_tensor_value_info("noise_scale_w", TensorProto.FLOAT, [1]),
        helper.make_tensor_value_info("sid", TensorProto.INT64, [1]),
    ]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, "T"])]
    model = helper.make_model(
        helper.make_graph(nodes, "vits_shaped_fixture", inputs, outputs),
        opset_imports=[helper.make_opsetid("", 13)],
    )
    # The onnxruntime in sherpa-onnx 2.0 reads IR 13 at most; onnx 1.23 writes 14 by default.
    model.ir_version = 8
    return model
