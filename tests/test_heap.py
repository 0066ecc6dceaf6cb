"""bot/heap.py: the freed heap given back after the second opinions' fit; what the fit built, frozen."""

from __future__ import annotations

import gc
import sys

import pytest

from bot.app import _freeze_trained
from bot.heap import return_freed_memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_glibc_is_asked_to_return_the_freed_heap() -> None:
    assert return_freed_memory() is True


def test_what_training_built_is_kept_out_of_the_collected_generations() -> None:
    built = [[index] for index in range(1000)]  # the rivals' classifiers are such objects
    before = gc.get_freeze_count()
    try:
        _freeze_trained()
        assert gc.get_freeze_count() >= before + len(built)
    finally:
        gc.unfreeze()  # the test process collects as before
