"""The flow file format, as pydantic models.

A flow is a YAML file in the flows directory; its name is the file name without
``.yaml``. The models forbid unknown keys so that a misspelt key is an error that
names itself instead of being silently ignored. Every key added since v1 is
optional, so v1 files stay valid.

A step does its work in a fixed order, then exactly one action:

1. ``set`` assigns variables (expressions);
2. ``lookup`` reads a row of a local table, ``http`` calls a business API (each
   may branch away: ``not_found`` / ``on_error``);
3. ``if`` branches: the first ``when`` that holds goes to its step;
4. ``say`` speaks (a template);
5. the action: ``ask``, ``collect``, ``knowledge``, ``goto``, ``call``, ``link``,
   ``return``, ``transfer`` or ``hangup``. A ``transfer`` with ``busy:`` first asks
   whether anyone can answer, and goes to its ``busy:`` step, before ``say``, when
   nobody can.

Expressions and templates are compiled while the file is validated, so an error in
one is reported with its line like any other problem.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from bot.language.builtins import builtin_intents, unknown_builtin
from bot.language.expressions import Expression, compile_expression, is_variable_name
from bot.language.slots import SlotType, make_slot_type
from bot.language.templates import Template, compile_template
from bot.language.voice import FlowVoice
from bot.pbx.base import Direction, TransferTarget
from bot.speech.recordings import check_recording_name

STEP_ACTIONS = ("ask", "collect", "knowledge", "goto", "call", "link", "return_", "transfer", "hangup")
RESERVED_NAMES = frozenset(
    {"intent", "intents", "step", "flow", "telnum", "call_id", "turns", "outcome", "today", "text"}
)
"""Variables the engine provides; ``set:``, slots and lookups cannot use these names."""
CAMPAIGN_DATA = "customer"
"""The variable holding an outbound campaign's data for the number called
(``{{customer.name}}``; docs/campaigns.md): provided, yet a flow may still set it."""


def _compiled_expression(value: Any) -> Any:
    if isinstance(value, Expression):
        return value
    if isinstance(value, bool) or value is None:
        return compile_expression({True: "true", False: "false", None: "null"}[value])
    if isinstance(value, int | float):
        return compile_expression(repr(value))
    if not isinstance(value, str):
        raise ValueError(f"expected an expression (text), found {value!r} — write it as text")
    return compile_expression(value)


ExpressionField = Annotated[
    Expression,
    BeforeValidator(_compiled_expression),
    WithJsonSchema({"type": ["string", "number", "boolean", "null"], "description": "an expression"}),
]
"""An expression as written in YAML, compiled (errors carry their column)."""


def _compiled_template(value: Any) -> Any:
    if isinstance(value, Template):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"expected text, found {value!r} — write text here")
    return compile_template(value)


TemplateField = Annotated[
    Template,
    BeforeValidator(_compiled_template),
    WithJsonSchema({"type": "string", "description": "text with {{name}} placeholders"}),
]


# What authors write is strict (an unknown key is an error) and text even when written as
# a number (`goto: 2`, `transfer: 8001`, `say: 12345`). The hook files follow it too.
AUTHOR_MODEL_CONFIG = ConfigDict(
    extra="forbid",
    frozen=True,
    coerce_numbers_to_str=True,
    arbitrary_types_allowed=True,
    populate_by_name=True,
)


class _Model(BaseModel):
    model_config = AUTHOR_MODEL_CONFIG


StepName = Annotated[str, Field(min_length=1)]


class Prompt(_Model):
    """Something the bot says. In YAML either a plain string or ``{text, interruptible, audio}``.

    The text is a template: ``{{phone}}`` is filled in when the prompt is said.
    ``audio`` names a recording (a WAV file, relative to the flows directory) played
    instead of synthesized speech; ``text`` is then what it says, and what speech
    synthesis says when the file cannot be played. A recording cannot say a variable.
    """

    text: str = Field(min_length=1)
    interruptible: bool = True
    audio: str | None = Field(None, min_length=1)
    _template: Template = PrivateAttr()

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        is_text = isinstance(value, str | int | float) and not isinstance(value, bool)
        return {"text": value} if is_text else value

    @field_validator("audio")
    @classmethod
    def _recording_inside_flows(cls, value: str | None) -> str | None:
        return None if value is None else check_recording_name(value)

    @model_validator(mode="after")
    def _compile(self) -> Prompt:
        self._template = compile_template(self.text)
        if self.audio is not None and not self._template.is_static:
            raise ValueError(
                f"a recording cannot say a variable, and this text has {{{{{min(self._template.names)}}}}} — "
                "record it without the variable and remove the placeholder from `text`, "
                "or remove `audio:` to have the text synthesized"
            )
        return self

    @property
    def template(self) -> Template:
        return self._template


class Ladder(_Model):
    """What to do when an asking step gets no usable answer: re-prompts, then a step."""

    prompts: list[Prompt] = Field(default_factory=list)
    then: StepName


class Intent(_Model):
    """Something a caller may mean, taught by example sentences and keywords, and by
    an intent of the built-in library (``bot.language.builtins``) when ``builtin`` names one."""

    builtin: str | list[str] | None = Field(
        None,
        description="An intent of the built-in library whose phrasings this one is taught too, or "
        "several ([deny, not_interested]: a refusal in either's words).",
    )
    examples: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(
        default_factory=list,
        description="Words that mean the caller wants something else (排除词): an utterance that holds "
        "one is not this intent, whatever else it holds (比例 for a progress query: 报销比例是多少 "
        "asks the rules, not where a claim is).",
    )
    description: str | None = Field(
        None,
        min_length=1,
        description="What the intent means, in a sentence, for the language model's intent fallback "
        "(docs/llm.md); default: the built-in intent's meaning, else its examples alone.",
    )

    @field_validator("builtin")
    @classmethod
    def _known_builtin(cls, names: str | list[str] | None) -> str | list[str] | None:
        if isinstance(names, list) and not names:
            raise ValueError("`builtin:` lists no intent — name one or more intents of the library")
        for name in [names] if isinstance(names, str) else names or []:
            if name not in builtin_intents():
                raise ValueError(unknown_builtin(name))
        return names

    @property
    def builtins(self) -> tuple[str, ...]:
        """The built-in intents this one stands for (``builtin``, one or several)."""
        if self.builtin is None:
            return ()
        return (self.builtin,) if isinstance(self.builtin, str) else tuple(self.builtin)

    @model_validator(mode="after")
    def _has_something(self) -> Intent:
        if not self.examples and not self.keywords and self.builtin is None:
            raise ValueError(
                "an intent needs at least one example or keyword — add `examples:` with sentences "
                "callers say, or `builtin:` with an intent of the library (docs/flows.md §4)"
            )
        return self


def taught(intents: dict[str, Intent]) -> dict[str, Intent]:
    """``intents`` as the classifier is taught them: each with its built-in intent's
    examples and keywords, then its own (repeats dropped). The flow's own phrases win:
    a phrasing of the library that the flow lists under another intent is left out."""
    library = builtin_intents()
    own = {plain_phrase(text): name for name, i in intents.items() for text in (*i.examples, *i.keywords)}
    result: dict[str, Intent] = {}
    for name, intent in intents.items():
        if intent.builtin is None:
            result[name] = intent
            continue
        builtins = [library[builtin] for builtin in intent.builtins]

        def kept(texts: list[str], name: str = name) -> list[str]:
            return [t for t in texts if own.get(plain_phrase(t), name) == name]

        result[name] = Intent.model_construct(
            builtin=intent.builtin,
            exclude=intent.exclude,
            examples=list(
                dict.fromkeys([*kept([t for b in builtins for t in b.examples]), *intent.examples])
            ),
            keywords=list(
                dict.fromkeys([*kept([t for b in builtins for t in b.keywords]), *intent.keywords])
            ),
        )
    return result


def plain_phrase(text: str) -> str:
    """A phrase as two phrases are compared: width, case, spaces and punctuation aside."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).lower())


class NLUOptions(_Model):
    """Per-flow tuning of intent recognition."""

    threshold: float | None = Field(None, gt=0, lt=1)
    second_opinion: bool = Field(
        True,
        description="Ask a linear model of the flow's examples when the best intent is just under "
        "the threshold (docs/flows.md §4).",
    )
    none_examples: list[str] = Field(
        default_factory=list,
        description="Sentences callers say here that are none of the flow's intents (questions its "
        "knowledge base answers, other topics): what the second opinion learns to leave alone.",
    )
    builtin_rivals: bool = Field(
        True,
        description="The built-in intents the flow does not use compete with its own: words one of "
        "them fits clearly better (你是机器人吗 where the flow has no are_you_robot) are a no-match, "
        "not the flow's nearest intent (docs/flows.md §4).",
    )


class LLMOptions(_Model):
    """Where the flow lets the language model help (docs/llm.md); nothing happens without
    ``VOICEBOT_LLM_URL``. A step's own ``llm: true`` or ``llm: false`` wins at that step."""

    intents: bool = Field(
        False,
        description="When no intent reaches the threshold, the model chooses among the intents the "
        "waiting step accepts, or none.",
    )
    answers: bool = Field(
        False,
        description="When the knowledge base finds related entries but no answer, the model words one "
        "from those entries only, checked against them.",
    )
    summary: bool = Field(True, description="Summarize the flow's calls at their end and at a transfer.")


DEFAULT_WAIT = "请稍等，我帮您查一下。"
DEFAULT_CALLER_FIRST = "您好，"
DEFAULT_TRANSFER_FAILED = "抱歉，坐席暂时无法接通，请您稍后再拨，再见。"
DEFAULT_KNOWLEDGE_PROMPT = "请问您想咨询什么问题？"


class Defaults(_Model):
    """Ladders used by every asking step that does not declare its own, and the words
    said in moments no step is written for: while the caller waits for a slow answer
    (``wait``), before the answer to a caller who spoke first (``caller_first``), and
    when a transfer the caller was promised fails (``transfer_failed``)."""

    silence: Ladder | None = None
    no_match: Ladder | None = None
    wait: Prompt = Field(default_factory=lambda: Prompt(text=DEFAULT_WAIT, interruptible=False))
    caller_first: Prompt = Field(default_factory=lambda: Prompt(text=DEFAULT_CALLER_FIRST))
    # Not interruptible, as the transfer notice before it: the bot hangs up after it.
    transfer_failed: Prompt = Field(
        default_factory=lambda: Prompt(text=DEFAULT_TRANSFER_FAILED, interruptible=False)
    )

    def prompts(self) -> list[Prompt]:
        """The words of the defaults: the said-in-a-moment ones, then the ladders'."""
        prompts = [self.wait, self.caller_first, self.transfer_failed]
        for ladder in (self.silence, self.no_match):
            if ladder:
                prompts.extend(ladder.prompts)
        return prompts


class Slot(_Model):
    """A typed value the flow collects: ``{type: phone}``; other keys are the type's options."""

    model_config = ConfigDict(extra="allow", frozen=True, arbitrary_types_allowed=True)

    type: str = Field(min_length=1)
    _kind: SlotType = PrivateAttr()

    @model_validator(mode="after")
    def _build(self) -> Slot:
        self._kind = make_slot_type(self.type, dict(self.model_extra or {}))
        return self

    @property
    def kind(self) -> SlotType:
        return self._kind


DEFAULT_CLARIFY = "您说的是{{%s}}吗？"
"""The built-in question that reads back an unsure value (``%s``: the slot); its
placeholder says the value the way its slot type says values (下午两点, 三千五百元)."""


class Collect(_Model):
    """Fill a slot: slot-first from the utterance that led here, else ask for it.

    An unsure value (两点 with no part of the day, an amount with no unit) is read
    back before it is stored: with `confirm` when the step has one, else with
    `clarify` (default: 您说的是{{slot}}吗？); `clarify: false` stores the guess.
    """

    slot: str = Field(min_length=1)
    prompt: Prompt
    invalid: list[Prompt] = Field(default_factory=list)
    attempts: int = Field(3, ge=1, le=10)
    confirm: Prompt | None = None
    clarify: Prompt | Literal[False] | None = Field(
        None,
        description="The question that reads back an unsure value (两点: 下午两点吗？) on a step "
        "without `confirm`; false stores the guess without asking. Default: 您说的是{{slot}}吗？",
    )
    then: StepName
    fail: str | None = None

    @field_validator("clarify", mode="before")
    @classmethod
    def _clarify_not_true(cls, value: Any) -> Any:
        if value is True:
            raise ValueError(
                "`clarify: true` is the default — write the question (您说的是{{time}}吗？), "
                "or `false` to store unsure values without asking"
            )
        return value

    @model_validator(mode="after")
    def _one_read_back(self) -> Collect:
        if self.confirm is not None and isinstance(self.clarify, Prompt):
            raise ValueError(
                "`confirm` already reads every value back, unsure ones too — "
                "remove `clarify`, or `confirm` if only unsure values should be read back"
            )
        return self

    def reads_back(self, unsure: bool) -> bool:
        """Whether a value found (``unsure``: a guess) waits for the caller's yes."""
        return self.confirm is not None or (unsure and self.clarify is not False)

    def read_back(self) -> Prompt:
        """The question that reads the waiting value back: ``confirm``, else ``clarify``,
        else the built-in one."""
        if self.confirm is not None:
            return self.confirm
        if isinstance(self.clarify, Prompt):
            return self.clarify
        return _default_clarify(self.slot)


@cache
def _default_clarify(slot: str) -> Prompt:
    # A slot name that is no variable name cannot be a placeholder: the question then
    # names no value, the caller's yes or correction still settles it.
    text = DEFAULT_CLARIFY % slot if is_variable_name(slot) else "您是说这个吗？"
    return Prompt(text=text)


class Knowledge(_Model):
    """Ask the knowledge service with the caller's words; say its answer, or its
    clarification and wait for the choice."""

    prompt: Prompt = Field(default_factory=lambda: Prompt(text=DEFAULT_KNOWLEDGE_PROMPT))
    then: StepName
    not_found: StepName | None = None
    on_error: StepName
    as_: str | None = Field(None, alias="as")


class Branch(_Model):
    """One arm of ``if:``: when the expression holds, go to the step."""

    when: ExpressionField
    goto: StepName


class Lookup(_Model):
    """Find a row of ``flows/data/<table>.csv|yaml`` whose columns equal the ``match`` values."""

    table: str = Field(min_length=1)
    match: dict[str, ExpressionField] = Field(min_length=1)
    as_: str = Field(alias="as", min_length=1)
    not_found: StepName


class HttpCall(_Model):
    """A request to the call center's business API."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    url: TemplateField
    query: dict[str, TemplateField] = Field(default_factory=dict)
    json_: dict[str, ExpressionField] | None = Field(None, alias="json")
    headers: dict[str, TemplateField] = Field(default_factory=dict)
    timeout_seconds: float = Field(3.0, gt=0, le=30, alias="timeout")  # authors write `timeout:`
    retries: int = Field(0, ge=0, le=5)
    save: dict[str, str] = Field(default_factory=dict)
    as_: str | None = Field(None, alias="as")
    on_error: StepName


class Call(_Model):
    """Run another flow; when it reaches ``return: true``, go on at ``then``."""

    flow: str = Field(min_length=1)
    then: StepName


class Step(_Model):
    """One step of a flow: work in a fixed order, then exactly one action."""

    set: dict[str, ExpressionField] = Field(default_factory=dict)
    lookup: Lookup | None = None
    http: HttpCall | None = None
    if_: list[Branch] = Field(default_factory=list, alias="if")
    say: Prompt | None = None
    ask: dict[str, str] | None = None
    collect: Collect | None = None
    knowledge: Knowledge | None = None
    goto: str | None = None
    call: Call | None = None
    link: str | None = None
    return_: bool = Field(False, alias="return")
    transfer: str | None = None
    busy: StepName | None = None  # with `transfer:`: where to go when nobody can answer
    hangup: bool = False
    silence: Ladder | None = None
    no_match: Ladder | None = None
    llm: bool | None = None  # the flow's `llm:` intents (ask, collect) or answers (knowledge) here

    @field_validator("transfer")
    @classmethod
    def _transfer_target(cls, value: str | None) -> str | None:
        if value is not None:
            TransferTarget.parse(value)  # its ValueError says what to write
        return value

    @model_validator(mode="after")
    def _busy_with_transfer(self) -> Step:
        if self.busy is None:
            return self
        if not self.transfer:
            raise ValueError(
                "`busy:` is where a transfer goes when nobody can answer — only a step with "
                "`transfer:` has one; move it to the transfer step or remove it"
            )
        if TransferTarget.parse(self.transfer).kind == "ivr":
            raise ValueError(
                f"`busy:` is never taken for {self.transfer}: an IVR menu always answers, so its "
                "availability is not asked — remove `busy:` or transfer to an agent or queue"
            )
        return self

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        chosen = [name.rstrip("_") for name in STEP_ACTIONS if getattr(self, name)]
        if len(chosen) != 1:
            found = ", ".join(chosen) if chosen else "none"
            raise ValueError(
                f"a step needs exactly one action (found: {found}) — use `ask:` or `collect:` to wait "
                "for the caller, `goto:`, `call:`, `link:` or `return: true` to go on, "
                "`transfer:` or `hangup: true` to end"
            )
        if self.lookup and self.http:
            raise ValueError("a step can do one lookup or one http call, not both — split it into two steps")
        if self.collect and self.no_match:
            raise ValueError(
                "a collect step handles answers without a valid value with its own keys — "
                "use `invalid:` (re-prompts), `attempts:` and `fail:` under `collect:` instead of `no_match:`"
            )
        if self.knowledge and self.no_match:
            raise ValueError(
                "a knowledge step sends every answer to the knowledge service — "
                "use `not_found:` under `knowledge:` instead of `no_match:`"
            )
        if not self.waits and (self.silence or self.no_match):
            raise ValueError(
                "silence and no_match ladders only make sense on a step with ask, collect or knowledge — "
                "move them to the asking step or remove them"
            )
        return self

    @property
    def waits(self) -> bool:
        """Whether the step waits for the caller (``ask``, ``collect`` or ``knowledge``)."""
        return bool(self.ask or self.collect or self.knowledge)

    def targets(self) -> Iterator[tuple[tuple[str | int, ...], str]]:
        """Every step this one may lead to within its flow, with the key path naming it."""
        if self.lookup:
            yield ("lookup", "not_found"), self.lookup.not_found
        if self.http:
            yield ("http", "on_error"), self.http.on_error
        for i, branch in enumerate(self.if_):
            yield ("if", i, "goto"), branch.goto
        for intent, target in (self.ask or {}).items():
            yield ("ask", intent), target
        if self.collect:
            yield ("collect", "then"), self.collect.then
            if self.collect.fail:
                yield ("collect", "fail"), self.collect.fail
        if self.knowledge:
            yield ("knowledge", "then"), self.knowledge.then
            yield ("knowledge", "on_error"), self.knowledge.on_error
            if self.knowledge.not_found:
                yield ("knowledge", "not_found"), self.knowledge.not_found
        if self.goto:
            yield ("goto",), self.goto
        if self.call:
            yield ("call", "then"), self.call.then
        for kind in ("silence", "no_match"):
            ladder: Ladder | None = getattr(self, kind)
            if ladder:
                yield (kind, "then"), ladder.then
        yield from ((("busy",), busy) for busy in (self.busy,) if busy)  # a transfer's

    def prompts(self) -> Iterator[Prompt]:
        if self.say:
            yield self.say
        if self.collect:
            yield self.collect.prompt
            yield from self.collect.invalid
            if self.collect.confirm:
                yield self.collect.confirm
            if isinstance(self.collect.clarify, Prompt):
                yield self.collect.clarify
        if self.knowledge:
            yield self.knowledge.prompt
        for ladder in (self.silence, self.no_match):
            if ladder:
                yield from ladder.prompts


class GradeRule(_Model):
    """A grading rule: the first whose ``when`` holds (or that has none) grades the call."""

    grade: str = Field(min_length=1)
    score: int = Field(ge=0, le=100)
    when: ExpressionField | None = None
    reason: str | None = None


class Flow(_Model):
    """A whole conversation: what it understands, what it collects, the steps it walks."""

    title: str = ""
    # Who places the flow's calls: the customer (inbound) or the robot (outbound: the
    # customer is the callee in the PBX's requests).
    direction: Direction = "inbound"
    start: str | None = None
    intents: dict[str, Intent] = Field(default_factory=dict)
    synonyms: dict[str, list[str]] = Field(default_factory=dict)
    nlu: NLUOptions = Field(default_factory=NLUOptions)
    llm: LLMOptions = Field(default_factory=LLMOptions)
    slots: dict[str, Slot] = Field(default_factory=dict)
    say_as: dict[str, str] = Field(default_factory=dict)
    global_: dict[str, str] = Field(default_factory=dict, alias="global")
    defaults: Defaults = Field(default_factory=Defaults)
    grading: list[GradeRule] = Field(default_factory=list)
    # The speech backend that says the flow's words first (bot/language/voice.py).
    voice: FlowVoice | None = None
    steps: dict[str, Step] = Field(min_length=1)

    @property
    def entry(self) -> str:
        return self.start or next(iter(self.steps))

    def silence_ladder(self, step_name: str) -> Ladder | None:
        return self.steps[step_name].silence or self.defaults.silence

    def no_match_ladder(self, step_name: str) -> Ladder | None:
        return self.steps[step_name].no_match or self.defaults.no_match

    def speech_kinds(self) -> dict[str, str]:
        """How each variable is said: a slot by its type, others as ``say_as`` declares."""
        kinds = {name: slot.type for name, slot in self.slots.items()}
        kinds.update(self.say_as)
        return kinds

    def all_prompts(self) -> list[Prompt]:
        prompts = self.defaults.prompts()
        for step in self.steps.values():
            prompts.extend(step.prompts())
        return prompts

    def static_prompts(self) -> list[Prompt]:
        """Every prompt known before any call (no placeholders), to be rendered at start."""
        return [p for p in self.all_prompts() if p.template.is_static]
