"""What masking costs per log record (bot/logs.py): a tight loop of ``logger.info`` calls
through a text handler, with the record factory and without it, in alternating rounds.

Run with ``python -m bench.logging_cost``; figures in docs/logging.md.
"""

from __future__ import annotations

import io
import logging
import statistics
import time

from bot import logs

RECORDS = 50_000
ROUNDS = 7
MESSAGES = {
    "no number": ("call %s: intent %s (%.2f) at step %s in %d ms", ("c-1", "transfer", 0.93, "menu", 42)),
    "numeric call id": ("call %s: intent %s at step %s", ("20261205100000123456", "transfer", "menu")),
    "a phone number": (
        "HTTP Request: GET %s",
        ("http://tts/say?extnum=13812345678&text=%E4%BD%A0%E5%A5%BD",),
    ),
}


def per_record_us(template: str, args: tuple[object, ...]) -> float:
    logger = logging.getLogger("bench.logging")
    began = time.perf_counter()
    for _ in range(RECORDS):
        logger.info(template, *args)
    return (time.perf_counter() - began) / RECORDS * 1e6


def main() -> None:
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(logs.TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for name, (template, args) in MESSAGES.items():
        plain, masked = [], []
        for _ in range(ROUNDS):
            logs.uninstall_record_factory()
            plain.append(per_record_us(template, args))
            logs.install_record_factory()
            masked.append(per_record_us(template, args))
            handler.stream = io.StringIO()
        p, m = statistics.median(plain), statistics.median(masked)
        print(f"{name:16} without {p:6.2f} µs/record   with {m:6.2f} µs/record   (+{m - p:.2f} µs)")


if __name__ == "__main__":
    main()
