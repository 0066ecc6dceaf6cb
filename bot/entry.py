"""The ``voicebot`` command's entry point: the garbage collector paused while the
service is imported and opened.

Start-up builds some 270,000 objects the collector tracks, and almost all of them live
as long as the process (the imported code, the flows, the classifiers, the knowledge
index; about 1,500 are garbage), yet every collection while they are built walks them
again. So the collector is paused here, before the first import, and resumed:

- by ``voicebot serve`` once the service is ready, after one collection and a
  ``gc.freeze`` of what start-up built (``bot.app``'s ``_freeze_startup_objects``);
- by every other command as soon as it is chosen (``bot.cli.main``).

Measured with ``python -m bench.startup`` (docs/performance.md, "Start-up and memory").
"""

from __future__ import annotations

import gc


def main() -> None:
    gc.disable()
    from bot.cli import main as cli  # noqa: PLC0415  # imported with the collector paused

    cli(prog_name="voicebot")
