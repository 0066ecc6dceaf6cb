"""``voicebot simulate``: play the CTI's part against a running bot (protocols.md §1).

Each step (from a script, or typed) is one callback: ``ready2speak``, recognized
text, barge-in (``playing=true``), ``hungup``. Every answer is checked as the CTI
would take it — HTTP 200, and a body that is exactly a bare audio URL with its
``canbeinterrupted`` flag, or ``continue`` — and every audio URL is downloaded and
read as a WAV, in the format the CTI is set up for when ``--audio-format`` names one
(``bot.tools.simulate_checks``). The turn, its latency and any problem
are printed; the exit status is 1 when anything was wrong, 2 when the script or the
URL itself is. Against voicebot, the bot's words are shown too, from its
``/calls/<callid>`` transcript.

The URL's own query (``?flow=survey``) goes with every callback, as the CTI sends it;
the parameters the simulator sets itself (``CALLBACK_PARAMS``) are taken out of it.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote, urlsplit, urlunsplit

import click
import httpx

from bot.errors import ScriptError
from bot.speech.wav import AUDIO_FORMATS, AudioFormat
from bot.tools.simulate_checks import Turn, check_answer, check_audio, check_expectations
from bot.tools.simulate_script import COMMANDS_HELP, Step, load_script, parse_command

DEFAULT_URL = "http://127.0.0.1:8080/cti/ai"
DEFAULT_TELNUM = "13800138000"
EXIT_PROBLEMS = 1
EXIT_SCRIPT = 2
SAFE_RATE, SAFE_CHANNELS = 8000, 1  # the CTI's own tone files: 8 kHz mono
# What each callback sets itself; the same names in --url's query give way to them.
CALLBACK_PARAMS = ("callid", "telnum", "txt", "playing")


class Unreachable(Exception):
    """The bot cannot be reached at all: there is no point in playing on."""


class Simulator:
    """Plays steps against one call of the bot, printing each turn to ``out``."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        url: str,
        callid: str,
        telnum: str,
        method: str = "get",
        out: TextIO = sys.stdout,
        transcript: bool = True,
        audio_format: AudioFormat | None = None,
    ) -> None:
        self.http = http
        self.url = url
        self.callback_url, self.overridden = callback_url(url)
        self.flow = (self.callback_url.params.get("flow") or "").strip() or None
        self._flow_checked = False
        self.callid = callid
        self.telnum = telnum
        self.method = method
        self.out = out
        self.audio_format = audio_format
        self.transcript_url = transcript_url(url, callid) if transcript else None
        self.turns: list[Turn] = []
        self.hung_up = False

    @property
    def problems(self) -> int:
        return sum(len(turn.problems) for turn in self.turns)

    def play(self, step: Step) -> None:
        """One step: a callback, checked and printed, or a pause."""
        if step.kind == "wait":
            self._print(f"   … {step.seconds:g} s")
            time.sleep(step.seconds)
            return
        turn = Turn(step)
        self.turns.append(turn)
        self.hung_up = self.hung_up or step.kind == "hangup"
        try:
            self._call(turn)
        except Unreachable:
            self._print_turn(turn)
            raise
        check_expectations(turn)
        self._print_turn(turn)

    def _call(self, turn: Turn) -> None:
        fields = {"telnum": self.telnum, "txt": turn.step.txt, "callid": self.callid}
        if turn.step.playing:
            fields["playing"] = "true"
        started = time.perf_counter()
        try:
            if self.method == "post":
                response = self.http.post(self.callback_url, data=fields)
            else:
                # Not params=: httpx would replace the URL's query (?flow=…) with it.
                response = self.http.get(self.callback_url.copy_merge_params(fields))
        except httpx.TimeoutException:
            turn.ms = (time.perf_counter() - started) * 1000
            turn.kind = "error"
            turn.problems.append(f"no answer within {self.http.timeout.read} s")
            return
        except httpx.TransportError as exc:
            turn.kind = "error"
            turn.problems.append(f"cannot reach {self.url}: {exc}")
            raise Unreachable from exc
        turn.ms = (time.perf_counter() - started) * 1000
        turn.status, turn.body = response.status_code, response.text
        check_answer(turn)
        if turn.kind == "audio":
            self._check_audio(turn)
        self._read_transcript(turn)

    def _check_audio(self, turn: Turn) -> None:
        try:
            response = self.http.get(turn.body.strip())
        except httpx.HTTPError as exc:
            turn.problems.append(f"audio download failed: {exc!r}")
            return
        check_audio(turn, response.status_code, response.content, self.audio_format)

    def _read_transcript(self, turn: Turn) -> None:
        """The bot's words for the turn, and the flow the call runs, from its transcript
        when it keeps one."""
        call = self._transcript()
        if call is None:
            return
        turns = call.get("turns")
        last = turns[-1] if isinstance(turns, list) and turns else None
        reply = last.get("reply") if isinstance(last, dict) else None
        turn.reply = reply if isinstance(reply, str) else None
        ran = call.get("flow")
        if self.flow is None or not isinstance(ran, str) or self._flow_checked:
            return
        # Once per call: a flow that is not the URL's runs the whole call.
        self._flow_checked = True
        if ran != self.flow:
            turn.problems.append(f"the call runs flow {ran!r}, not {self.flow!r} as the URL asks")

    def _transcript(self) -> dict[str, Any] | None:
        if self.transcript_url is None:
            return None
        try:
            # The transcript API wants the admin token: the one this machine's bot reads.
            token = os.environ.get("VOICEBOT_ADMIN_TOKEN") or os.environ.get("VOICEBOT_KB_ADMIN_TOKEN")
            headers = {"Authorization": f"Bearer {token}"} if token else None
            response = self.http.get(self.transcript_url, headers=headers)
            call = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None
        return call if isinstance(call, dict) else None

    def _print_turn(self, turn: Turn) -> None:
        number = len(self.turns)
        answer = turn.kind
        if turn.kind == "audio" and turn.interruptible is not None:
            answer += ", interruptible" if turn.interruptible else ", not interruptible"
        status = "" if turn.status in (None, 200) else f"HTTP {turn.status}, "
        self._print(f"#{number} {turn.step.label()} → {status}{answer} ({turn.ms:.0f} ms)")
        if turn.kind == "audio":
            self._print(f"   {turn.body.strip()}")
        elif turn.kind == "invalid":
            self._print(f"   body: {turn.body[:300]!r}")
        if turn.audio is not None:
            usual = (turn.audio.sample_rate, turn.audio.channels) == (SAFE_RATE, SAFE_CHANNELS)
            self._print(f"   {turn.audio}" + ("" if usual else " (note: the CTI's own files are 8 kHz mono)"))
        if turn.reply:
            self._print(f"   bot: {turn.reply}")
        for problem in turn.problems:
            self._print(f"   PROBLEM: {problem}")

    def summary(self) -> str:
        latencies = [turn.ms for turn in self.turns if turn.status is not None]
        timing = (
            f"; latency max {max(latencies):.0f} ms, mean {sum(latencies) / len(latencies):.0f} ms"
            if latencies
            else ""
        )
        return f"call {self.callid}: {len(self.turns)} turns, {self.problems} problems{timing}"

    def _print(self, line: str) -> None:
        print(line, file=self.out, flush=True)


def callback_url(url: str) -> tuple[httpx.URL, list[str]]:
    """``url`` without the parameters each callback sets itself, and the names taken out.

    Raises:
        httpx.InvalidURL: ``url`` cannot be read as a URL.
    """
    parsed = httpx.URL(url)
    params = parsed.params
    overridden = [name for name in CALLBACK_PARAMS if name in params]
    for name in overridden:
        params = params.remove(name)
    return parsed.copy_with(params=params), overridden


def transcript_url(callback_url: str, callid: str) -> str | None:
    """voicebot's ``/calls/<callid>`` beside its ``/cti/ai``; None for other URLs."""
    parts = urlsplit(callback_url)
    if not parts.path.endswith("/cti/ai"):
        return None
    path = parts.path.removesuffix("/cti/ai") + "/calls/" + quote(callid, safe="")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def run_script(simulator: Simulator, steps: list[Step]) -> None:
    for step in steps:
        simulator.play(step)


def run_interactive(simulator: Simulator, lines: TextIO, *, prompt: bool) -> None:
    """Steps typed line by line until /hangup, /quit or the end of input."""
    while not simulator.hung_up:
        if prompt:
            print("you> ", end="", file=simulator.out, flush=True)
        line = lines.readline()
        if not line:
            return
        try:
            command = parse_command(line)
        except ValueError as exc:
            print(exc, file=simulator.out)
            continue
        if command == "quit":
            return
        if command == "help":
            print(COMMANDS_HELP, file=simulator.out)
        elif command is not None:
            simulator.play(command)


@click.command("simulate")
@click.option("--url", default=DEFAULT_URL, show_default=True, help="The bot's AI callback URL.")
@click.option(
    "--script",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A YAML script of steps (docs/tools.md); without one, read steps from standard input.",
)
@click.option("--callid", help="The call's id (default: sim-<random>).")
@click.option("--telnum", default=DEFAULT_TELNUM, show_default=True, help="The caller's number.")
@click.option("--method", type=click.Choice(["get", "post"]), default="get", show_default=True)
@click.option(
    "--timeout",
    "timeout_seconds",
    default=10.0,
    show_default=True,
    type=float,
    help="Seconds to wait for each answer.",
)
@click.option(
    "--transcript/--no-transcript",
    default=True,
    show_default=True,
    help="Show the bot's words from voicebot's /calls/<callid>.",
)
@click.option(
    "--audio-format",
    type=click.Choice(AUDIO_FORMATS),
    help="The WAV the CTI is set up for (VOICEBOT_AUDIO_FORMAT); other audio is a problem. Default: any WAV.",
)
def simulate_command(
    *,
    url: str,
    script: Path | None,
    callid: str | None,
    telnum: str,
    method: str,
    timeout_seconds: float,
    transcript: bool,
    audio_format: AudioFormat | None,
) -> None:
    """Play the CTI against a running bot at URL and check every answer."""
    try:
        steps = load_script(script) if script is not None else None
    except ScriptError as exc:
        click.echo(f"voicebot simulate: {exc}", err=True)
        sys.exit(EXIT_SCRIPT)
    callid = callid or f"sim-{secrets.token_hex(4)}"
    with httpx.Client(timeout=timeout_seconds) as http:
        try:
            simulator = Simulator(
                http,
                url=url,
                callid=callid,
                telnum=telnum,
                method=method,
                transcript=transcript,
                audio_format=audio_format,
            )
        except httpx.InvalidURL as exc:
            raise click.BadParameter(str(exc), param_hint="--url") from exc
        for name in simulator.overridden:
            click.echo(f"voicebot simulate: warning: {_OVERRIDE_WARNINGS[name]}", err=True)
        _run(simulator, steps)
    click.echo(simulator.summary())
    sys.exit(EXIT_PROBLEMS if simulator.problems else 0)


_OVERRIDE_WARNINGS = {
    "callid": "--url's callid= is ignored: every callback sends the call's own (set it with --callid)",
    "telnum": "--url's telnum= is ignored: every callback sends the caller's (set it with --telnum)",
    "txt": "--url's txt= is ignored: each step sends its own",
    "playing": "--url's playing= is ignored: only a barge step sends playing=true",
}


def _run(simulator: Simulator, steps: list[Step] | None) -> None:
    try:
        try:
            if steps is not None:
                run_script(simulator, steps)
            else:
                if sys.stdin.isatty():
                    print(COMMANDS_HELP, file=simulator.out)
                run_interactive(simulator, sys.stdin, prompt=sys.stdin.isatty())
        except KeyboardInterrupt:
            print("   (interrupted)", file=simulator.out)
        if not simulator.hung_up:
            print("   (hanging up)", file=simulator.out)
            simulator.play(Step("hangup"))
    except Unreachable:
        pass  # printed with its turn
