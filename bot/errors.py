"""The one exception tree of voicebot.

::

    VoicebotError
    ├── ConfigError              a setting is missing or wrong; the service does not start
    ├── FlowError                a flow cannot be used
    │   ├── FlowValidationError  one or more `file:line:col: message — fix` problems
    │   ├── FlowTextError        a problem inside one expression or template, by column
    │   │   ├── ExpressionError  (bot.language.expressions)
    │   │   └── TemplateError    (bot.language.templates)
    │   ├── TableError           a lookup table in the flows' data/ cannot be used
    │   └── UnknownFlowError     a request names a flow that is not loaded
    ├── ScriptError              a `voicebot simulate` script cannot be played (`file:line: …`)
    ├── RequestError             a caller's request is malformed (mapped to HTTP 4xx)
    │   ├── FailureSpecError     the fake PBX's /control/fail body describes no failure
    │   └── NumbersFileError     a campaign's numbers file cannot be used (`file:line: …`)
    ├── NotReadyError            a request arrived before start-up finished (HTTP 503)
    ├── PBXError                 the PBX refused or failed an action
    │   ├── PBXRejectedError     it answered no (busy, offline, no such call, bad parameters)
    │   └── PBXUnavailableError  it did not answer usefully (down, timeout, 5xx, auth)
    ├── TTSError                 speech synthesis failed
    │   ├── SpeechUnavailableError  every backend of the chain failed
    │   ├── VendorError          a speech vendor answered an error code (its words kept)
    │   │   ├── VendorAuthError      credentials or token refused (a token is fetched anew once)
    │   │   └── VendorRateLimitedError  the vendor's rate or concurrency limit was hit
    │   └── WavError             bytes are not a usable WAV (its header, read by bot.speech.wav)
    ├── OutboxError              the outcome outbox cannot read or store a push
    ├── LLMError                 the language model failed, was late, was over budget or
    │                            answered outside its contract (its use then counts as none)
    └── KnowledgeError           the knowledge service failed or timed out
        ├── KnowledgeDataError   a knowledge entry or data file is invalid (HTTP 400)
        ├── KnowledgeStorageError  the data directory cannot be written (HTTP 503)
        └── UnknownEntryError    no knowledge entry has that id (HTTP 404)

Third-party exceptions are translated into these at the module that talks to the
third party (``raise … from exc``), so callers only ever handle this tree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal


class VoicebotError(Exception):
    """Base of every error voicebot raises on purpose."""


class ConfigError(VoicebotError):
    """A setting is missing or invalid."""


class FlowError(VoicebotError):
    """A flow cannot be loaded or used."""


@dataclass(frozen=True)
class FlowProblem:
    """One problem in a flow file, located for its author."""

    flow_file: str
    line: int
    column: int
    message: str
    fix: str
    severity: Literal["error", "warning"] = "error"  # warnings do not stop the service

    def __str__(self) -> str:
        label = "warning: " if self.severity == "warning" else ""
        return f"{self.flow_file}:{self.line}:{self.column}: {label}{self.message} — {self.fix}"


class FlowValidationError(FlowError):
    """A flow file is invalid; ``problems`` says where and how to fix each issue."""

    def __init__(self, problems: Sequence[FlowProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class FlowTextError(FlowError, ValueError):
    """A problem inside one text of a flow (an expression, a prompt template).

    Attributes:
        message: What is wrong, for the flow author.
        column: 1-based character position within that text; the loader adds the
            text's own place in the file.
        fix: What to write instead.
    """

    def __init__(self, message: str, column: int, fix: str) -> None:
        self.message = message
        self.column = column
        self.fix = fix
        super().__init__(f"column {column}: {message} — {fix}")


class UnknownFlowError(FlowError):
    """A request asked for a flow that is not loaded."""

    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name = name
        self.known = sorted(known)
        super().__init__(f"unknown flow {name!r}; loaded flows: {', '.join(self.known) or 'none'}")


class TableError(FlowError):
    """A lookup table (``data/<name>.csv`` or ``.yaml``) cannot be used; the message says
    what is wrong and how to fix it (``what — fix``), and the loader adds where."""


class ScriptError(VoicebotError):
    """A ``voicebot simulate`` script that cannot be played; ``str()`` is
    ``file:line: message`` (``file: message`` when the file cannot be read at all).

    Not a :class:`FlowError`: the script drives a bot from outside, and its problems
    must not be taken for the bot's own flows failing.
    """

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        self.path, self.line, self.message = str(path), line, message
        super().__init__(f"{self.path}:{line}: {message}" if line else f"{self.path}: {message}")


class RequestError(VoicebotError):
    """A request from a caller (the CTI, an API client) is malformed."""

    def __init__(self, reason: str, *, status: int = 400) -> None:
        self.reason = reason
        self.status = status
        super().__init__(reason)


class AccessRefused(RequestError):
    """A request without the credential its path needs (HTTP 401) or with too little (403);
    ``code`` names why, for the caller and the metrics' label (bot/web/auth.py)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message, status=status)
        self.code = code


class FailureSpecError(RequestError):
    """A fake PBX ``/control/fail`` body that does not describe a failure (HTTP 400)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, status=400)


class NotReadyError(VoicebotError):
    """A request arrived before the service finished starting."""

    def __init__(self) -> None:
        super().__init__("the service is still starting")


class PBXError(VoicebotError):
    """The PBX refused or failed an action (transfer, hang-up, play).

    Attributes:
        code: The vendor's error code (HWD ``600006``, a GX HTTP status), if it gave one.
        vendor_message: The vendor's own words for it (``转接异常``).
    """

    def __init__(
        self,
        message: str,
        *,
        call_id: str | None = None,
        code: str | None = None,
        vendor_message: str | None = None,
    ) -> None:
        self.call_id = call_id
        self.code = code
        self.vendor_message = vendor_message
        super().__init__(message)


class PBXRejectedError(PBXError):
    """The PBX answered and said no (target busy or offline, no such call, bad parameters)."""


class PBXUnavailableError(PBXError):
    """The PBX did not answer usefully: unreachable, timed out, a server error, or
    credentials it refuses. Nothing is known about whether the action happened."""


class NumbersFileError(RequestError):
    """A campaign's file of numbers (CSV or Excel) has problems, each ``file:line: what — fix``."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class StorageError(VoicebotError):
    """The store of live calls (SQLite in the data directory, or Redis) cannot be used."""


class OutboxError(VoicebotError):
    """The outcome outbox (its SQLite file) cannot read or store a push."""


class TTSError(VoicebotError):
    """Speech synthesis failed."""

    def __init__(self, message: str, *, backend: str | None = None) -> None:
        self.backend = backend
        super().__init__(message)


class SpeechUnavailableError(TTSError):
    """No backend of the speech chain could say a text (each failed or is cooling down).

    The caller answers with audio rendered earlier (an apology) and hands the text to
    the PBX's own speech instead.

    Attributes:
        failures: ``(backend name, reason)`` for each backend tried or skipped, in chain order.
    """

    def __init__(self, failures: Sequence[tuple[str, str]]) -> None:
        self.failures = list(failures)
        reasons = "; ".join(f"{name}: {reason}" for name, reason in self.failures)
        super().__init__(f"no speech backend could say the text ({reasons or 'no backends'})")


class VendorError(TTSError):
    """A cloud speech vendor refused or failed a request (bot/speech/vendors).

    Attributes:
        vendor: The backend's name (``aliyun``).
        code: The vendor's own error code, as it sent it (``"40000001"``), or the HTTP
            status when it sent none.
        vendor_message: The vendor's own words for it.
    """

    def __init__(self, vendor: str, code: str | int, vendor_message: str, *, what: str = "") -> None:
        self.vendor, self.code, self.vendor_message = vendor, str(code), vendor_message
        meaning = f" ({what})" if what else ""
        super().__init__(f"{vendor} error {code}{meaning}: {vendor_message}", backend=vendor)


class VendorAuthError(VendorError):
    """The vendor refused the credentials or the access token (expired, revoked, wrong)."""


class VendorRateLimitedError(VendorError):
    """The vendor's rate, quota or concurrency limit was hit; the chain's next backend speaks."""


class WavError(TTSError):
    """Bytes that should be a WAV file are not a usable one; the message says why.

    Raised by ``bot.speech.wav``, which reads the header of a WAV of any format tag
    (PCM, float, μ-law, A-law…) with the standard library; audio the decoder cannot
    read (``bot.speech.audio``) is a plain :class:`TTSError`.
    """


class KnowledgeError(VoicebotError):
    """The knowledge service failed, answered nonsense, or took too long."""


class KnowledgeDataError(KnowledgeError):
    """Knowledge entries or a data file are invalid; the message names each problem."""


class KnowledgeStorageError(KnowledgeError):
    """The knowledge data directory cannot be written (permissions, a read-only or full
    file system); the change is not served.

    Attributes:
        directory: The data directory (``VOICEBOT_KB_DIR``).
    """

    def __init__(self, message: str, *, directory: Path) -> None:
        self.directory = directory
        super().__init__(message)


class UnknownEntryError(KnowledgeError):
    """No knowledge entry has the id a request names."""

    def __init__(self, entry_id: str) -> None:
        self.entry_id = entry_id
        super().__init__(f"no knowledge entry has the id {entry_id!r}")


class LLMError(VoicebotError):
    """The language model (``VOICEBOT_LLM_URL``) gave no usable answer: it failed, was
    late, is cooling down after a failure, the call or the minute is over its budget, or
    it answered outside the contract of its use. The use is then skipped: the call goes
    on as without a model (docs/llm.md).

    Attributes:
        result: ``timeout``, ``error`` (the server failed or refused), or ``skipped``
            (not sent: cooling down, over a budget, not in a cassette); the
            ``voicebot_llm_requests`` metric's label.
    """

    def __init__(self, message: str, *, result: str = "error") -> None:
        self.result = result
        super().__init__(message)
