"""Giving the freed heap back to the system after a large one-off piece of work.

glibc's allocator keeps memory that a burst of work freed (the intents' second opinions
fitted once serving, ``bot.dialog.nlu_opinion``: about 20 MB a process) and its arenas
are reused rather than returned; ``malloc_trim(0)`` returns what it can. Elsewhere
(musl, macOS) there is nothing to call and nothing happens.
"""

from __future__ import annotations

import ctypes


def return_freed_memory() -> bool:
    """Ask the C allocator to return freed memory to the system; whether it could be asked."""
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the process's own symbols, libc's among them
    except (OSError, TypeError, AttributeError):  # not glibc
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim(0)
    return True
