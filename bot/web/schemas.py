"""The shapes of the HTTP APIs, as pydantic models: one place that both the handlers
validate with and ``/openapi.json`` (quart-schema, :mod:`bot.web.apidocs`) is made from.

The JSON APIs' request bodies and query strings are read into these models where the
handler validates them (``/model/parse``, the knowledge webhook and search); the
answers are documented by them. The CTI's endpoints are documented only: the CTI sends
bare ``a=b&c=d`` bodies, GBK bytes and unencoded Chinese, which ``bot.cti.params`` reads
byte-exact; a framework's validation would refuse or garble them.

Limits are the handlers' own constants (a test compares them), so that the document
cannot promise what the code refuses.
"""

from __future__ import annotations

import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError, field_validator

from bot.errors import RequestError
from bot.store.transcripts import Turn
from knowledge.entries import Entry

MAX_CALLS_LIMIT = 1000
MAX_SENDER_CHARS = 256
MAX_SEARCH_LIMIT = 50
MAX_CALL_ID_CHARS = 256

M = TypeVar("M", bound=BaseModel)


def _examples(*examples: Any) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


def validated(model: type[M], payload: object) -> M:
    """``payload`` read into ``model``, or a :class:`RequestError` (400) naming the first
    field that does not fit and why."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "the body"
        raise RequestError(f'"{where}": {first["msg"]}') from None


# --- errors ----------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    status: int = Field(description="The HTTP status again.")
    code: str = Field(description="A short, stable code: bad_request, unauthenticated, unknown_flow…")
    message: str = Field(description="What was wrong, for a person.")


class ErrorBody(BaseModel):
    """The error shape of every JSON API (bot/web/errors.py)."""

    model_config = _examples(
        {
            "error": {
                "status": 400,
                "code": "bad_request",
                "message": "limit must be a whole number from 1 to 1000",
            }
        }
    )

    error: ErrorDetail


# --- /calls ------------------------------------------------------------------------------


class CallsQuery(BaseModel):
    limit: int = Field(50, ge=1, le=MAX_CALLS_LIMIT, description="How many calls, newest first.")


class CallQuery(BaseModel):
    reveal: Literal["1", "true"] | None = Field(
        None,
        description="Admins only: the call with its phone and ID numbers unmasked (each reveal is logged).",
    )


class CallSummary(BaseModel):
    """A call as transcripts list it; numbers masked unless revealed."""

    callid: str
    telnum: str | None = Field(None, examples=["138****8000"])
    flow: str | None = None
    flow_version: str | None = None
    started_at: str | None = Field(None, description="ISO 8601")
    ended_at: str | None = Field(None, description="ISO 8601; null while the call is live.")
    outcome: str | None = Field(None, examples=["transferred", "completed", "in_progress"])
    end_reason: str | None = None
    grade: str | None = None
    score: float | None = None
    grade_reason: str | None = None
    variables: dict[str, Any] = Field(default_factory=dict, description="The flow's variables at the end.")
    test: bool = Field(False, description="A test call placed from the console.")
    direction: Literal["inbound", "outbound"] = Field(
        "inbound", description="inbound: the customer called; outbound: the robot called the customer."
    )
    campaign: str | None = Field(None, description="The outbound campaign whose call it was.")


class ListedCall(CallSummary):
    turn_count: int = 0


class CallList(BaseModel):
    """The most recent calls, newest first."""

    model_config = _examples(
        {
            "calls": [
                {
                    "callid": "15155578339432391",
                    "telnum": "138****8000",
                    "flow": "yibao",
                    "flow_version": "1a2b3c4d5e6f",
                    "started_at": "2026-12-05T09:30:00+08:00",
                    "ended_at": "2026-12-05T09:31:12+08:00",
                    "outcome": "transferred",
                    "end_reason": "transfer",
                    "grade": "B",
                    "score": 0.8,
                    "grade_reason": None,
                    "variables": {},
                    "test": False,
                    "direction": "inbound",
                    "turn_count": 3,
                }
            ]
        }
    )

    calls: list[ListedCall]


class HangupPushRecord(BaseModel):
    """A hang-up push of the CTI for this call, with every parameter it sent."""

    model_config = ConfigDict(extra="allow")

    business: str = Field(examples=["robot", "voicemail", "queue"])
    received_at: Any = None


class CallRecordAgent(BaseModel):
    number: str = Field(description="The agent's extension (the record's callee).")
    worknum: str | None = Field(None, description="The agent's work number (calleeworknum).")


class JoinedCallRecord(BaseModel):
    """A call record the CTI pushed (GX manual §31) joined to this call."""

    model_config = ConfigDict(extra="allow")

    join: Literal["callid", "peercallid", "number_and_time"] = Field(
        description="How it was joined: its callid (or peercallid) is this call's id, or its number is the "
        "caller's and its time overlaps the call's (VOICEBOT_CALL_RECORD_JOIN_SLACK_MS)."
    )
    id: Any = Field(None, description="The CTI's record id.")
    callid: str | None = Field(None, description="The CTI's call id, URL-decoded.")
    business: str | None = Field(
        None,
        examples=["AI_ROBOT", "AI_ROBOT_TRANSFER_IN"],
        description="AI_ROBOT_TRANSFER_IN: the agent's leg after a transfer.",
    )
    state: str | None = Field(None, examples=["STATE_RECEIVED", "STATE_FAILED"])
    caller: str
    callee: str
    begin_at: str | None = Field(None, description="beginTime, ISO 8601 UTC.")
    pickup_at: str | None = Field(None, description="pickupTime, ISO 8601 UTC.")
    talk_seconds: int | None = Field(None, description="duration: the talk time, in seconds.")
    hungup_side: str | None = Field(None, description="hungupside: who hung up, as the CTI writes it.")
    agent: CallRecordAgent | None = Field(None, description="Who took the transfer (AI_ROBOT_TRANSFER_IN).")
    forwarded_to: str | None = Field(None, description="forward: where the call was transferred.")
    recordings: dict[str, str] = Field(
        default_factory=dict,
        description="The record's recording paths on the CTI (recordVoice, robotrecord, …).",
    )
    received_at: str | None = None
    record: dict[str, Any] = Field(description="The record as the CTI pushed it.")


class CallDetail(CallSummary):
    """One call: every turn, its outcome and the CTI's hang-up pushes."""

    turns: list[Turn] = Field(default_factory=list)
    hangup_pushes: list[HangupPushRecord] = Field(default_factory=list)
    call_records: list[JoinedCallRecord] = Field(
        default_factory=list, description="The CTI's call records (GX manual §31) joined to this call."
    )
    recording_url: str | None = Field(
        None,
        description="Where the CTI serves the call's recording (GX manual §52.4); null for test calls and "
        "when the PBX is not a GX CTI. GET /calls/<id>/recording streams it through this service.",
        examples=["http://10.0.0.2:12121/Oms/FileDownServlet?robotcallid=15155578339432391"],
    )


# --- /healthz ---------------------------------------------------------------------------


class StorageHealth(BaseModel):
    transcripts: str = Field(description='"ok", or why transcripts cannot be written.')
    unwritten_rows: int
    lost_rows: int
    sessions: str


class Health(BaseModel):
    """Ready (200), or starting or failing to store (503)."""

    status: Literal["ok", "starting", "storage_failing"]
    flows: dict[str, str] = Field(description="Each flow's live version.")
    flow_errors: Any = Field(description="Problems of flow edits rejected while running.")
    prompts_rendered: int
    knowledge_entries: int
    live_calls: int = Field(description="The calls held: in progress, and ended ones not yet forgotten.")
    startup_seconds: float | None
    tasks: int = Field(description="The event loop's tasks (the soak benchmark watches them for growth).")
    outcomes: dict[str, Any] | None = Field(description="The outcome outbox's counts; null when off.")
    storage: StorageHealth


# --- /model/parse ------------------------------------------------------------------------


class ParseRequest(BaseModel):
    """What a caller said, and the flow whose intents and slots to use."""

    model_config = _examples(
        {"text": "我要转人工", "flow": "yibao"}, {"text": "下周一上午", "today": "2026-11-21"}
    )

    text: str = Field(description="The recognized text (at most VOICEBOT_MAX_TEXT_CHARS characters).")
    flow: str | None = Field(None, description="A flow's name; default VOICEBOT_DEFAULT_FLOW.")
    today: str | None = Field(
        None,
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
        description="The date relative dates (明天, 下周三) are resolved against, YYYY-MM-DD, "
        "like duckling's reftime; default: today in VOICEBOT_TIMEZONE.",
    )

    @field_validator("today")
    @classmethod
    def _calendar_day(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                datetime.date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{value} is not a calendar date") from None
        return value

    def today_date(self) -> datetime.date | None:
        """``today`` as a date, or None when not given."""
        return None if self.today is None else datetime.date.fromisoformat(self.today)


class Intent(BaseModel):
    name: str | None
    confidence: float


class EntityMatch(BaseModel):
    entity: str
    value: Any = Field(description='Dates "YYYY-MM-DD", times "HH:MM", numbers and amounts JSON numbers.')
    start: int
    end: int
    text: str
    unsure: bool | None = Field(
        None, description="Present and true when the value is a guess (两点 with no part of the day…)."
    )
    alternatives: list[Any] | None = Field(None, description="With ``unsure``: the other readings, if any.")


class ParseResult(BaseModel):
    """Rasa's parse result: the best intent, the ranking, and the flow's slots as entities."""

    model_config = _examples(
        {
            "text": "我要转人工",
            "intent": {"name": "transfer_agent", "confidence": 0.93},
            "intent_ranking": [{"name": "transfer_agent", "confidence": 0.93}],
            "entities": [],
        }
    )

    text: str
    intent: Intent
    intent_ranking: list[Intent]
    entities: list[EntityMatch]


# --- the knowledge service ------------------------------------------------------------


class WebhookMessage(BaseModel):
    """Rasa's REST channel message (protocols.md §5); UTF-8 or GBK."""

    model_config = _examples({"sender": "c1userId13800138000", "message": "请问异地就医如何备案"})

    sender: str = Field(
        min_length=1,
        max_length=MAX_SENDER_CHARS,
        pattern=r"\S",
        description="The conversation: the CTI's id with the caller's number after 'userId'.",
    )
    message: str = Field(description="The caller's question (at most VOICEBOT_MAX_TEXT_CHARS characters).")


class WebhookAnswer(BaseModel):
    recipient_id: str
    text: str = Field(
        description="A JSON document: the answer, a clarification or not-found (docs/knowledge.md)."
    )


class WebhookReply(RootModel[list[WebhookAnswer]]):
    """One message back to the sender."""

    model_config = _examples(
        [{"recipient_id": "c1userId13800138000", "text": '{"type": 0, "answer": "…", "id": "yidi-jiuyi"}'}]
    )


class SearchQuery(BaseModel):
    q: str = Field(min_length=1, pattern=r"\S", description="The question (at most VOICEBOT_MAX_TEXT_CHARS).")
    limit: int = Field(5, ge=1, le=MAX_SEARCH_LIMIT, description="How many entries, best first.")


class SearchHit(BaseModel):
    id: str
    title: str
    score: float
    answer: str
    kind: Literal["knowledge", "faq"]


class SearchResults(BaseModel):
    """The best entries for the question, best first."""

    model_config = _examples(
        {
            "results": [
                {"id": "yidi-jiuyi", "title": "异地就医", "score": 0.82, "answer": "…", "kind": "knowledge"}
            ]
        }
    )

    results: list[SearchHit]


class EntryList(BaseModel):
    """Every entry of the knowledge base."""

    entries: list[Entry]


class FormatQuery(BaseModel):
    format: Literal["yaml", "csv"] | None = Field(
        None, description="The file format; default by Content-Type (text/csv), else YAML."
    )


class ImportResult(BaseModel):
    """How many entries were created and how many replaced."""

    model_config = _examples({"created": 2, "updated": 5})

    created: int
    updated: int


class AskedEntry(BaseModel):
    id: str
    title: str
    at: Any = Field(description="When it was answered.")


class CustomerHistory(BaseModel):
    """What a customer was answered with, newest first (within VOICEBOT_KB_HISTORY_DAYS)."""

    customer: str
    asked: list[AskedEntry]


# --- the CTI's endpoints (documented only) ---------------------------------------------


class AiCallback(BaseModel):
    """The CTI's AI speech callback (GX CTI §52): in the query string, or as a form body."""

    model_config = _examples({"callid": "15155578339432391", "telnum": "13800138000", "txt": "ready2speak"})

    callid: str = Field(max_length=MAX_CALL_ID_CHARS, description="The call; printable characters only.")
    txt: str = Field(
        description="ready2speak (the call is connected, or nothing was said), hungup, or the recognized "
        "text (UTF-8 or GBK, percent-encoded or not)."
    )
    telnum: str | None = Field(None, description="The caller's number.")
    playing: Literal["true", "false", "1", "0", "yes", "no"] | None = Field(
        None, description="true when the caller spoke while a prompt was playing (a barge-in)."
    )
    flow: str | None = Field(None, description="The flow to run; default VOICEBOT_DEFAULT_FLOW.")


class CtiToken(BaseModel):
    token: str | None = Field(None, description="VOICEBOT_CTI_TOKEN, when it is set.")


class AiQuery(AiCallback, CtiToken):
    pass


class HangupPush(BaseModel):
    """The CTI's hang-up push (GX §41); every parameter is recorded with the call."""

    model_config = ConfigDict(extra="allow")

    callid: str = Field(description="The call.")
    business: str | None = Field(
        None, description="robot closes a robot call; voicemail, queue are recorded."
    )
    caller: str | None = None


class HangupQuery(HangupPush, CtiToken):
    pass


class CallRecordPush(BaseModel):
    """The CTI's call-record push (GX manual §31.3); each record has §30's fields."""

    model_config = ConfigDict(extra="allow")

    client_ip: str | None = Field(None, description="The pushing CTI's address.", examples=["192.168.3.86"])
    datas: list[dict[str, Any]] = Field(
        description="The records: id, caller, callee, beginTime (ms), duration (s), state, callid, business, "
        "hungupside, callerworknum, calleeworknum, recordVoice, robotrecord, pickupTime, … (unknown fields "
        "kept)."
    )


class AgentSpeechPush(BaseModel):
    """The CTI's live transcript of an agent's call (GX manual §54.3): one sentence."""

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "caller": "13800138000",
                    "callee": "801",
                    "callid": "c635814c-4c50-4340-adcf-bc3824e1ea70@192.168.1.82",
                    "caller-callid": "fd6a66a6-52da-4bcd-ade3-902aecb2a996@192.168.1.82",
                    "side": "caller",
                    "txt": "异地就医怎么备案",
                }
            ]
        },
    )

    caller: str = Field(description="The calling number of the agent's call.")
    callee: str = Field(description="The called number of the agent's call.")
    callid: str | None = Field(None, description="The callee's call id (the CTI's, not the robot's).")
    caller_callid: str | None = Field(None, alias="caller-callid", description="The caller's call id.")
    side: Literal["caller", "callee"] = Field(description="Whose words: the caller's or the callee's.")
    txt: str = Field(description="The sentence, URL-encoded UTF-8 (GBK is read too).")


class IvrQuery(CtiToken):
    """An IVR node's query (GX §13); the keys are in1, in2, … (flows/hooks/ivr.yaml)."""

    model_config = ConfigDict(extra="allow")

    opt: str | None = Field(None, description="The query's name in flows/hooks/ivr.yaml.")
    in1: str | None = Field(None, description="The caller's first keys (in2, in3… likewise).")
    caller: str | None = None
    callee: str | None = None
    id: str | None = Field(None, description="The CTI's call id.")


class RouteQuery(CtiToken):
    caller: str | None = Field(None, description="The caller's number.")


class AudioQuery(BaseModel):
    canbeinterrupted: Literal["true", "false"] | None = Field(
        None, description="Added for the CTI: whether the caller may barge in; ignored here."
    )


# --- /campaigns, /do-not-call ------------------------------------------------------------


class CampaignNumbers(BaseModel):
    """How many numbers are in each state."""

    waiting: int = Field(description="To be handed to the GX task, now or at their time.")
    imported: int = Field(description="In the task, their call to come.")
    done: int = Field(description="Called; their result kept.")
    failed: int = Field(description="Not reached after every attempt.")
    dnc: int = Field(description="On the do-not-call list: never called.")


class CampaignShown(BaseModel):
    """A campaign, its rules and its numbers' counts (docs/campaigns.md)."""

    model_config = ConfigDict(extra="allow")

    name: str
    flow: str
    task_id: int
    rules: dict[str, Any]
    state: Literal["stopped", "running", "finished"]
    task_running: bool
    created_at: float
    updated_at: float
    numbers: CampaignNumbers
    task: dict[str, Any] | None = Field(None, description="§50's live counts of the GX task while it runs.")


class CampaignCreated(CampaignShown):
    warnings: list[str] = Field(default_factory=list, description="e.g. a number given twice, kept once.")


class CampaignList(BaseModel):
    campaigns: list[CampaignShown]


class DoNotCallNumber(BaseModel):
    telnum: str = Field(examples=["139****0001"])
    added_at: float
    reason: str
    call_id: str | None = None


class DoNotCallList(BaseModel):
    numbers: list[DoNotCallNumber]


class DoNotCallAdded(BaseModel):
    telnum: str = Field(examples=["139****0001"])
    added: bool = Field(description="false: it was on the list already.")
