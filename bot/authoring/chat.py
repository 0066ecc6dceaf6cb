"""``voicebot chat``: talk to a flow in the terminal, as its caller, without a phone.

A flow author types what the caller says and sees what the bot answers, with what
the bot made of it on a dim line below: the step it waits at, the flow (when a
``call:`` or ``link:`` left the main one), the recognized intent and its
confidence, the slots filled so far and a value waiting for confirmation::

    bot> 您好，欢迎致电医保服务热线。…请问有什么可以帮您？
       [step=greeting slots={}]
    you> 我要转人工
    bot> 好的，正在为您转接人工客服，请稍候。
       [step=transfer intent=transfer_agent (1.00) slots={}]
       [transfer → 8001]
       [not interruptible]
    call ended: transferred — intent 'transfer_agent' at step 'greeting' → …
    grade: A (90) — 转人工，需坐席跟进

The turns run through the same ``Conversation`` as the CTI callback (barge-in rules,
intent recognition, the engine, ``http:`` steps), one ``CallState`` per call, each
turn on a copy of the state that is kept only when the turn completes, as the
service does. Only the PBX is left out, and speech unless ``--audio DIR`` asks for
each reply as a telephone WAV (``DIR/001.wav``, ``002.wav``…, rendered by espeak-ng
as the service would, with its cache in ``DIR/.cache``).

Input is read line by line from stdin, so a conversation can be piped in; the
``you>`` prompt and colours appear only on a terminal. Piped lines are echoed after a
``you>`` of their own (an empty one as ``you> (silence)``), so that the output reads
as the conversation it was; ``--no-echo`` leaves them out, ``--echo`` echoes typed
lines too. A line is what the caller says; ``/help`` lists the commands for silence,
barge-in, hanging up and the rest. The chat greets at once; after a call ends (or
``/new``), the next line is the new call's first event, so a caller who speaks first
can be tried too.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, TextIO, TypeVar

import click

from bot.authoring.chat_audio import ReplyAudio
from bot.authoring.chat_view import ChatView
from bot.authoring.runtime import open_conversation
from bot.config import Settings, load_settings
from bot.dialog.conversation import Conversation, Heard
from bot.dialog.registry import LoadedFlow
from bot.dialog.state import CallState, Reply
from bot.errors import ConfigError, FlowValidationError, TTSError, UnknownFlowError, VoicebotError
from bot.llm.assistant import language_model

__all__ = ["DEFAULT_TELNUM", "HELP", "chat_command"]

DEFAULT_TELNUM = "13800000000"
EXIT_SETUP = 2  # the flows, the flow name or the settings do not allow a start
EXIT_AUDIO = 1  # --audio was asked for and espeak-ng does not work
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT

HELP = """\
Type what the caller says, or a command:
  (empty line), /silence   the caller stays silent (the CTI's ready2speak)
  /barge TEXT              the caller says TEXT while the bot's prompt still plays
  /hangup                  the caller hangs up
  /state                   the call's step, variables, stack and intents
  /new                     start a new call, without a greeting yet: the caller may
                           speak first (a line), or stay silent (an empty line)
  /help                    this help
  /quit                    leave (end of input, Ctrl-D, does too)"""

_T = TypeVar("_T")


@click.command("chat")
@click.option("--flow", "flow_name", metavar="NAME", help="Flow to call (default: VOICEBOT_DEFAULT_FLOW).")
@click.option(
    "--flows-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory of the flow files (default: VOICEBOT_FLOWS_DIR).",
)
@click.option(
    "--date",
    "call_date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="The call's date, for 明天 and 下周三 (default: today in VOICEBOT_TIMEZONE).",
)
@click.option("--telnum", default=DEFAULT_TELNUM, show_default=True, help="The caller's number.")
@click.option(
    "--audio",
    "audio_dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Save each reply's speech as DIR/001.wav, 002.wav… (espeak-ng; nothing is played).",
)
@click.option(
    "--echo/--no-echo",
    default=None,
    help="Print each caller line after `you>` (default: when the input is piped, not a terminal).",
)
@click.option(
    "--cassette",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The language model's recorded answers to replay instead of asking VOICEBOT_LLM_URL (docs/llm.md).",
)
@click.option("--record", is_flag=True, help="Ask VOICEBOT_LLM_URL for what --cassette lacks, and add it.")
def chat_command(
    *,
    flow_name: str | None,
    flows_dir: Path | None,
    call_date: dt.datetime | None,
    telnum: str,
    audio_dir: Path | None,
    echo: bool | None,
    cassette: Path | None,
    record: bool,
) -> None:
    """Talk to a flow in the terminal, as its caller.

    Each line you type is what the caller says; an empty line is silence. /help
    lists the commands (barge-in, hang up, show the call's state, new call). With
    VOICEBOT_LLM_URL set, the flows' `llm:` uses ask the model (or --cassette's answers).
    """
    try:
        settings = load_settings()
    except ConfigError as exc:
        _fail(str(exc), EXIT_SETUP)
    if record and cassette is None:
        _fail("--record adds answers to a cassette: name it with --cassette FILE", EXIT_SETUP)
    # jieba announces its dictionary loading at DEBUG on a handler of its own.
    logging.getLogger("jieba").setLevel(logging.WARNING)
    options = _Options(
        flows_dir=flows_dir or settings.flows_dir,
        flow=flow_name or settings.default_flow,
        date=call_date.date() if call_date else None,
        telnum=telnum,
        audio_dir=audio_dir,
        echo=echo,
        cassette=cassette,
        record=record,
    )
    code = _Session(settings, options).run()
    if code:
        sys.exit(code)


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"voicebot chat: {message}", err=True)
    sys.exit(code)


@dataclass(frozen=True)
class _Options:
    flows_dir: Path
    flow: str
    date: dt.date | None
    telnum: str
    audio_dir: Path | None
    echo: bool | None = None  # None: when stdin is not a terminal
    cassette: Path | None = None  # the language model's recorded answers
    record: bool = False  # ask the model for what the cassette lacks


class _Session:
    """The whole ``chat`` run: one event loop, one conversation, calls one after another.

    The loop lives in an ``asyncio.Runner`` and only runs during a turn: between
    turns the terminal is read in the plain, blocking way, so Ctrl-C there is an
    ordinary KeyboardInterrupt and piped input needs nothing special.
    """

    def __init__(self, settings: Settings, options: _Options) -> None:
        self._settings = settings
        self._options = options
        # sys.stdin and sys.stdout, not click.get_text_stream (deprecated in click 8.5):
        # CliRunner replaces both, so tests feed the input and read the output.
        self._stdin: TextIO | None = sys.stdin
        self._interactive = _isatty(sys.stdin)
        self._echo = not self._interactive if options.echo is None else options.echo
        self._view = ChatView(color=_isatty(sys.stdout))
        self._runner = asyncio.Runner()
        self._resources = contextlib.AsyncExitStack()
        self._conversation: Conversation | None = None
        self._flow: LoadedFlow | None = None
        self._audio: ReplyAudio | None = None
        self._state: CallState | None = None
        self._calls = 0

    # --- the run ---------------------------------------------------------------------

    def run(self) -> int:
        """Chat until /quit, end of input or Ctrl-C; the exit status."""
        try:
            with self._runner:
                try:
                    code = self._start()
                    if code:
                        return code
                    self._loop()
                    return 0
                except KeyboardInterrupt:
                    click.echo()
                    return EXIT_INTERRUPTED
                finally:
                    with contextlib.suppress(KeyboardInterrupt):
                        self._runner.run(self._resources.aclose())
        except KeyboardInterrupt:  # a second Ctrl-C while closing
            return EXIT_INTERRUPTED

    def _start(self) -> int:
        options = self._options
        today = _fixed(options.date) if options.date else None
        try:
            model = language_model(self._settings, cassette=options.cassette, record=options.record)
            self._conversation = self._runner.run(
                self._resources.enter_async_context(
                    open_conversation(options.flows_dir, self._settings, today=today, model=model)
                )
            )
        except ConfigError as exc:
            click.echo(f"voicebot chat: {exc}", err=True)
            return EXIT_SETUP
        except FlowValidationError as exc:
            click.echo(f"voicebot chat: invalid flows in {options.flows_dir}:\n{exc}", err=True)
            return EXIT_SETUP
        try:
            self._flow = self._conversation.flows.get(options.flow)
        except UnknownFlowError as exc:
            known = ", ".join(exc.known) or "none"
            click.echo(
                f"voicebot chat: no flow {options.flow!r} in {options.flows_dir}; the flows there: {known}",
                err=True,
            )
            return EXIT_SETUP
        if options.audio_dir is not None:
            problem = self._runner.run(self._open_speech(options.audio_dir))
            if problem:
                click.echo(f"voicebot chat: --audio: {problem}", err=True)
                return EXIT_AUDIO
        title = f" ({self._flow.flow.title})" if self._flow.flow.title else ""
        click.echo(self._view.dim(f"Chatting with flow {self._flow.name}{title}. /help lists the commands."))
        self._new_call(greet=True)
        return 0

    async def _open_speech(self, directory: Path) -> str | None:
        """The synthesizer for --audio, checked once; what is wrong, if anything."""
        try:
            self._audio = await ReplyAudio.open(self._settings, directory, self._options.flows_dir)
        except OSError as exc:
            return f"cannot use {directory}: {exc.strerror or exc}"
        except TTSError as exc:
            return str(exc)
        return None

    def _loop(self) -> None:
        while True:
            line = self._read()
            if line is None:
                return
            if not self._handle(line):
                return

    def _read(self) -> str | None:
        """The next line without its line end; None at the end of input."""
        if self._interactive:
            click.echo(self._view.style("you> ", bold=True), nl=False)
        if self._stdin is None:  # started without a stdin at all
            return None
        try:
            line = self._stdin.readline()
        except UnicodeDecodeError:
            self._view.error("that line is not valid text in the terminal's encoding; type it again")
            return ""
        if not line:
            if self._interactive:
                click.echo()
            return None
        line = line.rstrip("\r\n")
        if self._echo:
            self._view.caller(line)
        return line

    # --- one line ----------------------------------------------------------------------

    def _handle(self, line: str) -> bool:
        """Act on one line; False to stop."""
        text = line.strip()
        if not text.startswith("/"):
            if text:
                self._say(text, playing=False)
            else:
                self._silence()
            return True
        command, _, argument = text.partition(" ")
        command, argument = command.lower(), argument.strip()
        if command in ("/quit", "/exit"):
            return False
        simple: dict[str, Callable[[], None]] = {
            "/help": lambda: click.echo(HELP),
            "/silence": self._silence,
            "/hangup": self._hang_up,
            "/state": lambda: self._view.state(self._state),
            "/new": lambda: self._new_call(greet=False),
        }
        if command == "/barge":
            if argument:
                self._say(argument, playing=True)
            else:
                self._view.error("/barge needs what the caller says, e.g. /barge 转人工")
        elif command in simple:
            simple[command]()
        else:
            self._view.error(f"unknown command {command}")
            click.echo(HELP)
        return True

    def _say(self, text: str, *, playing: bool) -> None:
        """The caller says ``text``; after an ended call, as the first words of a new
        call (the caller speaks first)."""
        if self._state is None or self._state.ended:
            self._new_call(greet=False)
        self._turn(lambda conversation, state: conversation.hear(state, text, playing=playing))

    def _silence(self) -> None:
        """ready2speak: after an ended call, the greeting of a new one."""
        if self._state is None or self._state.ended:
            self._new_call(greet=True)
        else:
            self._turn(self._say_nothing)

    @staticmethod
    async def _say_nothing(conversation: Conversation, state: CallState) -> Reply:
        return await conversation.silence(state)

    def _hang_up(self) -> None:
        state = self._state
        if state is None or state.ended:
            click.echo(self._view.dim("   [the call has ended already; an empty line starts a new one]"))
            return

        async def hang_up(conversation: Conversation, state: CallState) -> None:
            conversation.hung_up(state)

        self._turn(hang_up)

    # --- calls and turns -----------------------------------------------------------------

    def _new_call(self, *, greet: bool) -> None:
        """Start a call; with ``greet``, greet at once, as the CTI's first ready2speak does."""
        assert self._flow is not None
        self._calls += 1
        call_id = f"chat-{self._calls}"
        self._state = CallState(
            call_id=call_id,
            telnum=self._options.telnum,
            flow=self._flow.name,
            flow_version=self._flow.version,
        )
        date = (self._options.date or self._settings.today()).isoformat()
        click.echo(
            self._view.dim(
                f"── call {call_id}: flow {self._flow.name} (version {self._flow.version}), "
                f"telnum {self._options.telnum}, date {date}"
            )
        )
        if greet:
            self._turn(self._say_nothing)

    def _turn(self, event: Callable[[Conversation, CallState], Awaitable[Heard | Reply | None]]) -> None:
        """Run one event on a copy of the call's state; keep the copy when it completes."""
        assert self._conversation is not None
        assert self._state is not None
        conversation, state = self._conversation, self._state.copy()
        try:
            outcome = self._runner.run(_coroutine(event(conversation, state)))
        except VoicebotError as exc:
            self._view.error(f"the turn failed, the call stays where it was: {exc}")
            return
        self._state = state
        if isinstance(outcome, Heard):
            if outcome.reply is None:
                self._view.continues()
            else:
                self._show_reply(outcome.reply, outcome)
        elif isinstance(outcome, Reply):
            self._show_reply(outcome, None)
        if state.ended:
            self._view.end(state)

    def _show_reply(self, reply: Reply, heard: Heard | None) -> None:
        assert self._state is not None
        self._view.reply(reply, self._state, heard)
        if self._audio is not None:
            self._save_audio(self._audio, reply)

    # --- audio ------------------------------------------------------------------------

    def _save_audio(self, audio: ReplyAudio, reply: Reply) -> None:
        try:
            target = self._runner.run(audio.save(reply))
        except (TTSError, OSError) as exc:
            self._view.error(f"audio not saved: {exc}")
            return
        self._view.info(f"audio: {target}")


async def _coroutine(awaitable: Awaitable[_T]) -> _T:
    """``Runner.run`` takes a coroutine; the events give awaitables."""
    return await awaitable


def _fixed(date: dt.date) -> Callable[[], dt.date]:
    return lambda: date


def _isatty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except ValueError:  # closed
        return False
