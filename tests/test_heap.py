"""bot/heap.py: the freed heap given back after the second opinions' fit."""

from __future__ import annotations

import sys

import pytest

from bot.heap import return_freed_memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_glibc_is_asked_to_return_the_freed_heap() -> None:
    assert return_freed_memory() is True
