"""What text normalisation costs per synthesized text, over the normaliser's table of cases.

Run with ``.venv/bin/python -m bench.normalize``. Every text the bot synthesizes goes
through :func:`bot.speech.normalize.normalize_for_speech` once per process (later
renders of the same text are a dictionary lookup), so this is the cost of a first
render, on top of the backend. It prints the import time of the normaliser and the
microseconds per text: the best and the median of several rounds over the whole
table (``tests/speech/normalize_cases.tsv``).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

CASES = Path(__file__).resolve().parent.parent / "tests" / "speech" / "normalize_cases.tsv"
ROUNDS = 7
PASSES_PER_ROUND = 50


def import_ms() -> float:
    """Milliseconds to import the normaliser in a fresh interpreter."""
    code = (
        "import time; t = time.perf_counter(); import bot.speech.normalize; "
        "print((time.perf_counter() - t) * 1000)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(result.stdout)


def per_text_us(texts: list[str]) -> list[float]:
    """Microseconds per text in each round."""
    from bot.speech.normalize import normalize_for_speech  # noqa: PLC0415 (timed apart above)

    rounds = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(PASSES_PER_ROUND):
            for text in texts:
                normalize_for_speech(text)
        rounds.append((time.perf_counter() - start) / (PASSES_PER_ROUND * len(texts)) * 1e6)
    return rounds


def main() -> None:
    lines = CASES.read_text(encoding="utf-8").splitlines()
    texts = [line.split("\t")[1] for line in lines if line.strip() and not line.startswith("#")]
    imports = sorted(import_ms() for _ in range(5))
    rounds = per_text_us(texts)
    print(f"import: {statistics.median(imports):.1f} ms (median of 5 fresh interpreters)")
    print(
        f"{len(texts)} texts: {min(rounds):.1f} µs per text at best, {statistics.median(rounds):.1f} median"
    )


if __name__ == "__main__":
    main()
