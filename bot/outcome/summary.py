"""The outcome push's payload: one ended call, summarized for the call center's systems.

The schema is a promise to a receiver we do not control, so it is versioned: a field
is only ever added under the same ``version``; renaming or removing one raises it.
docs/outcomes.md shows an example.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from bot.llm.summaries import ModelSummary

SUMMARY_VERSION = 1


class GradeSummary(TypedDict):
    """The grade the flow's rules gave the call."""

    grade: str
    score: int
    reason: str


class OutcomeSummary(TypedDict):
    """The JSON body of one outcome push (schema ``version`` 1).

    Attributes:
        version: The schema version, 1.
        callid: The CTI's ``callid``; also the push's ``Idempotency-Key``.
        telnum: The caller's number as the CTI sent it.
        flow: The flow the call started in.
        flow_version: That flow's version (a content hash) when the call started.
        direction: ``inbound`` (the customer called) or ``outbound`` (the robot called
            the customer).
        campaign: The outbound campaign whose call it was, or ``None``; the number's
            data is in ``slots`` as ``customer``.
        outcome: How the call ended: ``transferred``, ``transfer_failed``,
            ``hung_up_by_bot`` or ``hung_up_by_caller`` (a call closed after no callback for
            ``VOICEBOT_SESSION_TTL_SECONDS`` is ``hung_up_by_caller`` with an
            ``end_reason`` starting ``abandoned:``).
        end_reason: Why, in words (``caller hung up``, the transfer's step…).
        started_at: ISO 8601 UTC with milliseconds (``2026-03-01T02:03:04.567Z``).
        ended_at: The same format.
        grade: The flow's grade of the call, or ``None`` when no rule matched.
        slots: The call's variables: collected slots and ``set:`` values.
        transcript: Every turn as ``GET /calls/<callid>`` shows it, in order (callbacks,
            PBX exchanges, the hang-up push).
        recording_url: Where the CTI serves the call's recording (GX manual §52.4), or
            ``None`` (not a GX CTI).
        model_summary: The language model's summary (``summary``: what the caller
            wanted, what was done, what is owed; ``grade_reason``: the grade in words;
            ``model``), or ``None`` (no model, or no usable answer in time). ``grade``
            stays the rules'.
    """

    version: int
    callid: str
    telnum: str
    flow: str
    flow_version: str
    direction: str
    campaign: str | None
    outcome: str
    end_reason: str | None
    started_at: str
    ended_at: str | None
    grade: GradeSummary | None
    slots: dict[str, Any]
    transcript: list[dict[str, Any]]
    recording_url: str | None
    model_summary: ModelSummary | None


def outcome_summary(
    call: Mapping[str, Any],
    *,
    recording_url: str | None = None,
    model_summary: ModelSummary | None = None,
) -> OutcomeSummary:
    """The push payload of a call as ``TranscriptStore.get_call`` returns it.

    Args:
        call: The stored call with its ``turns``.
        recording_url: Where the CTI serves its recording, if it records.
        model_summary: The language model's summary of the call, if one was made.

    Returns:
        The summary; see :class:`OutcomeSummary` for every field.
    """
    grade: GradeSummary | None = None
    if call["grade"] is not None and call["score"] is not None:
        grade = {"grade": call["grade"], "score": call["score"], "reason": call["grade_reason"] or ""}
    return {
        "version": SUMMARY_VERSION,
        "callid": call["callid"],
        "telnum": call["telnum"],
        "flow": call["flow"],
        "flow_version": call["flow_version"],
        "direction": call.get("direction", "inbound"),
        "campaign": call.get("campaign"),
        "outcome": call["outcome"],
        "end_reason": call["end_reason"],
        "started_at": call["started_at"],
        "ended_at": call["ended_at"],
        "grade": grade,
        "slots": dict(call["variables"]),
        "transcript": list(call["turns"]),
        "recording_url": recording_url,
        "model_summary": model_summary,
    }
