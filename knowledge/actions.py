"""Custom actions for rasa-sdk's action server: ``python -m rasa_sdk --actions knowledge.actions``.

``action_query_knowledge_base`` is rasa-sdk's ``ActionQueryKnowledgeBase`` over our
knowledge base (``knowledge.rasa.VoicebotKnowledgeBase``), read from the directory
``VOICEBOT_KB_DIR`` names (default ``knowledge/data``, relative to the working
directory), and speaking Chinese: an ``answer`` is said as it is.

Importing this module reads nothing and imports little: the action server imports
it, creates the action with no arguments and pickles it into its worker process, so
``knowledge.rasa`` (jieba, pypinyin: about a second) is imported and the knowledge
base loaded (once per process, in a worker thread) when the action first runs.
See docs/knowledge-rasa.md.
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Tracker
from rasa_sdk.knowledge_base.actions import ActionQueryKnowledgeBase
from rasa_sdk.knowledge_base.storage import KnowledgeBase as RasaKnowledgeBase
from rasa_sdk.types import DomainDict

from bot.errors import ConfigError

if TYPE_CHECKING:
    from knowledge.rasa import VoicebotKnowledgeBase

KB_DIR_VARIABLE = "VOICEBOT_KB_DIR"
DEFAULT_KB_DIR = "knowledge/data"
LIST_INTRO_TEXT = "为您找到以下内容："
NOTHING_FOUND_TEXT = "抱歉，没有找到相关的内容。"
ATTRIBUTE_LABELS = {
    "id": "编号",
    "title": "名称",
    "kind": "类型",
    "keywords": "关键词",
    "questions": "常见问法",
    "children": "细分内容",
}

_loaded: dict[Path, VoicebotKnowledgeBase] = {}
_loading = threading.Lock()


def knowledge_base_directory() -> Path:
    """The directory ``VOICEBOT_KB_DIR`` names (default ``knowledge/data``)."""
    return Path(os.environ.get(KB_DIR_VARIABLE, DEFAULT_KB_DIR))


def shared_knowledge_base(directory: Path) -> VoicebotKnowledgeBase:
    """The knowledge base of ``directory``, loaded on the first call of this process
    (blocking; concurrent first calls wait for the one load).

    Raises:
        ConfigError: ``directory`` is not a directory (a wrong ``VOICEBOT_KB_DIR`` or
            working directory would otherwise be an empty knowledge base).
        KnowledgeDataError: a data file is invalid; the next call tries again.
    """
    from knowledge.rasa import VoicebotKnowledgeBase  # noqa: PLC0415 (heavy: imported when first needed)

    key = directory.resolve()
    with _loading:
        if key not in _loaded:
            if not key.is_dir():
                raise ConfigError(f"{KB_DIR_VARIABLE}={directory}: no such directory (from {Path.cwd()})")
            _loaded[key] = VoicebotKnowledgeBase.from_directory(key)
        return _loaded[key]


class ActionQueryVoicebotKnowledgeBase(ActionQueryKnowledgeBase):
    """``action_query_knowledge_base`` over our knowledge base, loaded when first run.

    Args:
        knowledge_base: The knowledge base to query; default: the one of
            ``VOICEBOT_KB_DIR``, loaded by the first ``run``.
        use_last_object_mention: As for rasa-sdk: with no mention, an attribute
            question is about the topic last talked about.
    """

    def __init__(
        self, knowledge_base: RasaKnowledgeBase | None = None, use_last_object_mention: bool = True
    ) -> None:
        # Not ActionQueryKnowledgeBase.__init__: it wants the knowledge base now.
        self._knowledge_base = knowledge_base
        self.use_last_object_mention = use_last_object_mention

    @property
    def knowledge_base(self) -> RasaKnowledgeBase:
        """The knowledge base; set by the first ``run`` unless given."""
        if self._knowledge_base is None:
            raise RuntimeError("the knowledge base is loaded by run()")
        return self._knowledge_base

    @knowledge_base.setter
    def knowledge_base(self, knowledge_base: RasaKnowledgeBase) -> None:
        self._knowledge_base = knowledge_base

    def name(self) -> str:
        """``action_query_knowledge_base``."""
        return "action_query_knowledge_base"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Load the knowledge base if not yet loaded, then run rasa-sdk's action.

        Raises:
            ConfigError: ``VOICEBOT_KB_DIR`` is not a directory.
            KnowledgeDataError: a data file is invalid.
        """
        if self._knowledge_base is None:
            self._knowledge_base = await asyncio.to_thread(shared_knowledge_base, knowledge_base_directory())
        return await super().run(dispatcher, tracker, domain)

    def utter_attribute_value(
        self, dispatcher: CollectingDispatcher, object_name: str, attribute_name: str, attribute_value: Any
    ) -> None:
        """Say the answer as it is; another attribute as ``<title>的<label>：<value>``
        (``children`` by their titles)."""
        if attribute_name == "children":
            attribute_value = self._titles(attribute_value or [])
        dispatcher.utter_message(text=attribute_text(object_name, attribute_name, attribute_value))

    def _titles(self, ids: list[str]) -> list[str]:
        from knowledge.rasa import VoicebotKnowledgeBase  # noqa: PLC0415 (loaded by now)

        if isinstance(self._knowledge_base, VoicebotKnowledgeBase):
            return self._knowledge_base.titles(ids)
        return ids

    async def utter_objects(
        self, dispatcher: CollectingDispatcher, object_type: str, objects: list[dict[str, Any]]
    ) -> None:
        """List the topics found, one message each (``1：异地安置``), after an introduction."""
        if not objects:
            dispatcher.utter_message(text=NOTHING_FOUND_TEXT)
            return
        represent = await self.knowledge_base.get_representation_function_of_object(object_type)
        dispatcher.utter_message(text=LIST_INTRO_TEXT)
        for position, topic in enumerate(objects, start=1):
            dispatcher.utter_message(text=f"{position}：{represent(topic)}")


def attribute_text(title: str, attribute: str, value: Any) -> str:
    """What is said for one attribute of a topic."""
    if attribute == "answer" and value:
        return str(value)
    label = ATTRIBUTE_LABELS.get(attribute, attribute)
    if not value:
        return f"抱歉，{title}没有{label}的信息。"
    shown = "、".join(str(item) for item in value) if isinstance(value, list) else str(value)
    return f"{title}的{label}：{shown}"
