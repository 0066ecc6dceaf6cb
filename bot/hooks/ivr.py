"""Answering the CTI's IVR self-service queries (GX CTI §13; the format: :mod:`bot.hooks.ivr_file`).

The CTI speaks whatever text comes back with its own TTS, so every outcome is a
short, speakable sentence and nothing here raises: an unknown ``opt``, keys that
do not pass their rules, a row or record not found, a business API that is down
or slow, even a bug, each has its words. :meth:`IvrQueries.answer` says which
outcome it was, for the log.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.dialog.business import BusinessAPI
from bot.hooks.ivr_file import CALL_PARAMS, ROW, LoadedIvr, Query
from bot.language.expressions import truthy
from bot.language.templates import Template

logger = logging.getLogger(__name__)

NOT_CONFIGURED = "抱歉，自助查询暂未开通。"
"""The answer to every query when there is no ``flows/hooks/ivr.yaml``."""
MAX_ANSWER_CHARS = 300
"""An answer is cut here: the CTI synthesizes it while the caller waits."""

_TAG = re.compile(r"<[^<>]*>")
_SPACE = re.compile(r"\s+")


class Outcome(enum.Enum):
    """How a query ended, as logged."""

    ANSWERED = "answered"
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    UNAVAILABLE = "unavailable"
    UNKNOWN = "unknown"
    NOT_CONFIGURED = "not_configured"


@dataclass(frozen=True)
class Answer:
    """The text the CTI will speak, and how the query ended."""

    text: str
    outcome: Outcome


class IvrQueries:
    """The queries of ``ivr.yaml``, ready to answer.

    Args:
        loaded: The validated file, or ``None`` when there is none: then every
            query answers :data:`NOT_CONFIGURED`.
        business: The business API client of ``http:`` queries.
    """

    def __init__(self, loaded: LoadedIvr | None, business: BusinessAPI) -> None:
        self._loaded = loaded
        self._business = business

    async def answer(self, opt: str, params: Mapping[str, str]) -> Answer:
        """Answer one request of the CTI's IVR node; never raises.

        Args:
            opt: The query's name, from the CTI's URL.
            params: Every parameter of the request (``in1``…, ``caller``, ``callee``, ``id``).
        """
        if self._loaded is None:
            return Answer(NOT_CONFIGURED, Outcome.NOT_CONFIGURED)
        variables: dict[str, object] = {name: params.get(name, "") for name in CALL_PARAMS}
        variables["opt"] = opt
        query = self._loaded.file.queries.get(opt)
        if query is None:
            return self._say(self._loaded.file.texts.unknown, variables, {}, Outcome.UNKNOWN)
        try:
            return await self._run(query, params, variables)
        except Exception:  # the last guard: the CTI would speak an error page
            logger.exception("ivr query %r failed", opt)
            return self._failure(query, "unavailable", variables, Outcome.UNAVAILABLE)

    async def _run(self, query: Query, params: Mapping[str, str], variables: dict[str, object]) -> Answer:
        for name, key in query.keys.items():
            value = _key_value(params.get(name))
            if (value is None and key.required) or (value is not None and not key.accepts(value)):
                return self._failure(query, "invalid", variables, Outcome.INVALID)
            variables[name] = value
        missing = await self._fetch(query, variables)
        if missing is not None:
            return self._failure(query, missing.value, variables, missing)
        if query.found is not None and not truthy(query.found.evaluate(variables)):
            return self._failure(query, "not_found", variables, Outcome.NOT_FOUND)
        answer = self._say(query.answer, variables, query.say_as, Outcome.ANSWERED)
        if not answer.text:  # every placeholder empty: nothing worth saying was found
            return self._failure(query, "not_found", variables, Outcome.NOT_FOUND)
        return answer

    async def _fetch(self, query: Query, variables: dict[str, object]) -> Outcome | None:
        """Look up or ask for the query's data into ``variables``; the failure, if any."""
        assert self._loaded is not None
        if query.lookup:
            values = {column: e.evaluate(variables) for column, e in query.lookup.match.items()}
            table = self._loaded.tables[query.lookup.table]
            row = None if None in values.values() else table.find(values)
            if row is None:
                return Outcome.NOT_FOUND
            variables[ROW] = dict(row)
        if query.http:
            outcome = await self._business.call(query.http, variables)
            if not outcome.ok:
                return Outcome.NOT_FOUND if outcome.status == 404 else Outcome.UNAVAILABLE
            variables.update(outcome.variables)
        return None

    def _failure(self, query: Query, kind: str, variables: dict[str, object], outcome: Outcome) -> Answer:
        assert self._loaded is not None
        return self._say(query.text(kind, self._loaded.file.texts), variables, query.say_as, outcome)

    @staticmethod
    def _say(
        template: Template, variables: Mapping[str, object], kinds: Mapping[str, str], outcome: Outcome
    ) -> Answer:
        return Answer(speakable(template.render(variables, kinds)), outcome)


def _key_value(raw: str | None) -> str | None:
    """A key as pressed: spaces and a closing ``#`` (the caller's "done") dropped; empty is absent."""
    value = (raw or "").strip().removesuffix("#").strip()
    return value or None


def speakable(text: str) -> str:
    """Text the CTI's TTS can read: no tags, no line breaks, at most :data:`MAX_ANSWER_CHARS`."""
    cleaned = _SPACE.sub(" ", _TAG.sub("", text)).strip()
    if len(cleaned) > MAX_ANSWER_CHARS:
        logger.warning("an ivr answer of %d characters was cut to %d", len(cleaned), MAX_ANSWER_CHARS)
        cleaned = cleaned[:MAX_ANSWER_CHARS]
    return cleaned
