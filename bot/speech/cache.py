"""Content-addressed on-disk store of telephone WAVs.

A clip's key is the SHA-256 of everything that determines its audio: the text,
the backend's name and identity (voice, options) and the output format. Changing
any of them gives a new key, so a cache is never stale and never needs
invalidating; files are ``<key>.wav`` in one directory, written atomically so
that a reader (the web server handing files to the CTI, another worker process)
never sees half a file.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

from bot.errors import TTSError
from bot.speech.tts import TTSBackend

AUDIO_FORMAT = "wav-8000-mono-s16"
_KEY = re.compile(r"[0-9a-f]{64}")
_FILE_MODE = 0o644  # mkstemp makes 0600; a separate static file server may serve the files


def is_valid_key(key: str) -> bool:
    """Whether ``key`` has the form of a cache key (64 lowercase hex characters).

    Args:
        key: Untrusted text, e.g. from a URL.

    Returns:
        True when ``key`` can safely name a file in the cache directory.
    """
    return _KEY.fullmatch(key) is not None


class AudioCache:
    """Telephone WAVs on disk, addressed by :meth:`key_for`.

    Args:
        directory: Where the files live; created (with parents) if absent.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # Once, at construction (start-up), so the hot path never has to.
        self.directory.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"AudioCache({str(self.directory)!r})"

    def key_for(self, text: str, backend: TTSBackend) -> str:
        """The key of ``text`` as spoken by ``backend``.

        Args:
            text: The exact text synthesized (after normalisation).
            backend: The backend; its ``name`` and ``identity()`` enter the key.

        Returns:
            64 lowercase hex characters.
        """
        canonical = json.dumps(
            {
                "text": text,
                "backend": backend.name,
                "identity": backend.identity(),
                "format": AUDIO_FORMAT,
            },
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def path(self, key: str) -> Path:
        """The file of ``key`` (which may not exist yet).

        Args:
            key: A cache key.

        Returns:
            ``<directory>/<key>.wav``.

        Raises:
            ValueError: ``key`` is not 64 lowercase hex characters; this also keeps
                untrusted keys such as ``../etc/passwd`` out of the file system.
        """
        if not is_valid_key(key):
            raise ValueError(f"malformed audio cache key {key[:80]!r}")
        return self.directory / f"{key}.wav"

    def exists(self, key: str) -> bool:
        """Whether the clip of ``key`` is stored (a ``stat``; async callers use a thread).

        Args:
            key: A cache key.

        Returns:
            True when the file exists.

        Raises:
            ValueError: ``key`` is malformed.
        """
        return self.path(key).is_file()

    async def put(self, key: str, wav: bytes) -> Path:
        """Store ``wav`` under ``key``, atomically; the file I/O runs in a thread.

        Args:
            key: A cache key.
            wav: The telephone WAV.

        Returns:
            The file's path.

        Raises:
            ValueError: ``key`` is malformed.
            TTSError: The file cannot be written (disk full, permissions).
        """
        path = self.path(key)
        try:
            await asyncio.to_thread(_write_atomically, path, wav)
        except OSError as exc:
            raise TTSError(f"cannot store audio in {self.directory}: {exc}") from exc
        return path


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename it over ``path``.

    ``os.replace`` within one directory is atomic, so readers see either no file
    or the whole file. The fsync before it makes sure a crash cannot leave a
    complete-looking but empty file that would then be served forever.
    """
    path.parent.mkdir(parents=True, exist_ok=True)  # survives someone removing the directory
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem[:16]}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
            os.fchmod(temp.fileno(), _FILE_MODE)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
