"""The child process in which sherpa-onnx speaks, for :mod:`bot.speech.vendors.sherpa`.

sherpa-onnx runs in a process of its own because, in the same process, it could do
two things the service must never do:

- end the process: on a model it cannot use (a metadata key missing, an unknown
  language, a lexicon line it cannot parse) its C++ code calls ``exit(-1)`` or
  ``_Exit(-1)`` rather than raising (``SHERPA_ONNX_EXIT`` in ``csrc/macros.h``,
  ``offline-tts-vits-model.cc``, ``lexicon.cc``);
- write the callers' words to the service's stderr: every word missing from the
  lexicon (``OOV … Ignore it!``) and a whole text it could not convert
  (``Failed to convert … to token IDs``) go to file descriptor 2, past logging.

Here both are contained: the parent sees a worker that exited (and says so without
the words), and reads this process's stderr without ever logging what it says.

The protocol, over stdin and stdout:

1. The parent writes one JSON line: the model's files and threads
   (:meth:`~bot.speech.vendors.sherpa_model.ModelLayout.worker_config`).
2. The worker loads the model and answers ``{"rate": …, "speakers": …}``; if it cannot,
   it exits with status 2 and the reason on stderr.
3. Then, for each request line ``{"text": …, "sid": …, "speed": …}``, it answers a
   header line ``{"rate": …, "bytes": n}`` followed by ``n`` bytes of 16-bit
   little-endian mono PCM (``n`` is 0 when sherpa-onnx made no audio; ``"failed": 1``
   is added when it raised).
4. End of stdin: it exits with status 0.

It is run as a script (``python -P sherpa_worker.py``) and imports nothing but the
standard library, numpy and sherpa-onnx.
"""

from __future__ import annotations

import json
import os
import sys
from typing import IO, Any

import numpy as np
import sherpa_onnx  # type: ignore[import-untyped]  # it ships no type information


def main() -> int:
    """Serve requests until stdin ends; the exit status says how it ended."""
    # The protocol keeps stdout for itself; whatever native code prints there goes to stderr.
    protocol = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    line = sys.stdin.buffer.readline()
    if not line:
        return 0
    try:
        tts = _load(json.loads(line))
    except (RuntimeError, ValueError, KeyError) as exc:
        print(f"cannot load the model: {exc}", file=sys.stderr)
        return 2
    _send(protocol, {"rate": tts.sample_rate, "speakers": tts.num_speakers})
    for request_line in sys.stdin.buffer:
        request = json.loads(request_line)
        try:
            audio = tts.generate(request["text"], sid=request["sid"], speed=request["speed"])
        except RuntimeError as exc:  # onnxruntime's words, which never quote the text
            print(f"generate failed: {exc}", file=sys.stderr)
            _send(protocol, {"rate": 0, "bytes": 0, "failed": 1})
            continue
        pcm = _pcm16(audio.samples)
        _send(protocol, {"rate": audio.sample_rate, "bytes": len(pcm)}, pcm)
    return 0


def _load(settings: dict[str, Any]) -> Any:
    kind = settings["kind"]
    common = {"tokens": settings["tokens"], "lexicon": settings["lexicon"], "data_dir": settings["data_dir"]}
    if kind == "kokoro":
        model = sherpa_onnx.OfflineTtsModelConfig(
            kokoro=sherpa_onnx.OfflineTtsKokoroModelConfig(
                model=settings["model"], voices=settings["voices"], **common
            ),
            num_threads=settings["threads"],
        )
    elif kind == "matcha":
        model = sherpa_onnx.OfflineTtsModelConfig(
            matcha=sherpa_onnx.OfflineTtsMatchaModelConfig(
                acoustic_model=settings["model"], vocoder=settings["vocoder"], **common
            ),
            num_threads=settings["threads"],
        )
    else:
        model = sherpa_onnx.OfflineTtsModelConfig(
            vits=sherpa_onnx.OfflineTtsVitsModelConfig(model=settings["model"], **common),
            num_threads=settings["threads"],
        )
    # One sentence at a time: a long text costs time, never the memory of one huge batch.
    config = sherpa_onnx.OfflineTtsConfig(
        model=model, rule_fsts=settings["rule_fsts"], rule_fars=settings["rule_fars"], max_num_sentences=1
    )
    if not config.validate():
        raise ValueError("sherpa-onnx refused the configuration (its reason is above)")
    return sherpa_onnx.OfflineTts(config)


def _pcm16(samples: Any) -> bytes:
    audio = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    return (audio * 32767).astype("<i2").tobytes()


def _send(protocol: IO[bytes], header: dict[str, int], payload: bytes = b"") -> None:
    protocol.write(json.dumps(header).encode() + b"\n" + payload)


if __name__ == "__main__":
    sys.exit(main())
