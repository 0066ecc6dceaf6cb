"""``voicebot tts``: hear what a speech backend makes of a text, and see the voices a flow
may choose (docs/flows.md, "voicebot tts say and voicebot tts voices")."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from bot.config import load_settings
from bot.errors import ConfigError, TTSError
from bot.speech.audition import say
from bot.speech.backends import BACKEND_NAMES
from bot.speech.voice_list import BackendVoices, list_voices

backend_option = click.option(
    "--backend",
    type=click.Choice(BACKEND_NAMES),
    help="A speech backend, whether VOICEBOT_TTS lists it or not.",
)


@click.group("tts")
def tts_group() -> None:
    """Speech backends for flow authors: say a text, list the voices."""


@tts_group.command("say")
@click.argument("text")
@backend_option
@click.option("--voice", help="One of the backend's voices instead of the one its settings name.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("say.wav"),
    show_default=True,
    help="The WAV file to write.",
)
def tts_say(text: str, backend: str | None, voice: str | None, output: Path) -> None:
    """Say TEXT as the service would and write it as a WAV in the served format.

    With --backend, that backend alone says it (after its own check); without, the chain
    of VOICEBOT_TTS does, falling back as the service does, and --voice is a voice of its
    first backend. Prints the backend that said it, how long it plays and the file.
    Exit status 2 for settings that do not work, 1 when nothing could say the text.
    """
    try:
        said = asyncio.run(say(load_settings(), text, output, backend=backend, voice=voice))
    except ConfigError as exc:
        click.echo(f"voicebot: {exc}", err=True)
        sys.exit(2)
    except TTSError as exc:
        click.echo(f"voicebot: {exc}", err=True)
        sys.exit(1)
    except OSError as exc:
        click.echo(f"voicebot: cannot write {output}: {exc.strerror or exc}", err=True)
        sys.exit(1)
    click.echo(f"{said.backend}: {said.duration_seconds:.2f} s, wrote {said.path}")


@tts_group.command("voices")
@backend_option
def tts_voices(backend: str | None) -> None:
    """List each speech backend (or one): whether VOICEBOT_TTS lists it, whether its
    settings are complete, and its voices (* marks the one its settings name)."""
    try:
        listing = asyncio.run(list_voices(load_settings(), [backend] if backend else BACKEND_NAMES))
    except ConfigError as exc:
        click.echo(f"voicebot: {exc}", err=True)
        sys.exit(2)
    for entry in listing:
        click.echo(_heading(entry))
        width = max((len(v.name) for v in entry.voices), default=0)
        for voice in entry.voices:
            mark = "*" if voice.name == entry.voice else " "
            click.echo(f"  {mark} {voice.name:<{width}}  {voice.description}".rstrip())
        if entry.note:
            click.echo(f"    {entry.note}")


def _heading(entry: BackendVoices) -> str:
    listed = f"VOICEBOT_TTS #{entry.position}" if entry.position else "not in VOICEBOT_TTS"
    state = "configured" if entry.problem is None else f"not configured: {entry.problem}"
    voice = f"; voice {entry.voice}" if entry.voice else ""
    return f"{entry.name}: {listed}; {state}{voice}"
