"""A JSON Schema of the flow format, for editors (VS Code's YAML extension and others).

Generated from the pydantic models, so it never drifts from what the loader
accepts; adjusted where YAML is more forgiving than the models' JSON form: a
prompt may be a plain string, and so may a voice; slot types and speech backends are
listed; step names and numbers written as numbers are text.
"""

from __future__ import annotations

from typing import Any

from bot.language.flow import Flow
from bot.language.slots import BUILTIN_KINDS
from bot.speech.backends import BACKEND_NAMES

SCHEMA_ID = "https://voicebot.invalid/schemas/flow.schema.json"


def flow_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a flow file."""
    schema = Flow.model_json_schema(by_alias=True)
    defs = schema["$defs"]
    prompt = defs.pop("Prompt")
    defs["PromptObject"] = prompt
    defs["Prompt"] = {
        "description": prompt.get("description", ""),
        "anyOf": [{"type": "string", "minLength": 1}, {"$ref": "#/$defs/PromptObject"}],
    }
    defs["Slot"]["properties"]["type"] = {"enum": list(BUILTIN_KINDS), "description": "the slot type"}
    _voice(defs)
    _text_or_number(schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "voicebot flow",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def _voice(defs: dict[str, Any]) -> None:
    """``voice: aliyun`` as well as ``voice: {backend: aliyun, name: aixia}``; the backends listed."""
    voice = defs.pop("FlowVoice")
    backend = voice["properties"]["backend"]
    voice["properties"]["backend"] = {"enum": list(BACKEND_NAMES), "description": backend["description"]}
    defs["FlowVoiceObject"] = voice
    defs["FlowVoice"] = {
        "description": voice.get("description", ""),
        "anyOf": [{"enum": list(BACKEND_NAMES)}, {"$ref": "#/$defs/FlowVoiceObject"}],
    }


def _text_or_number(node: Any) -> None:
    """YAML reads ``transfer: 8001`` and ``goto: 2`` as numbers; the loader takes them as
    text, so the schema must too."""
    if isinstance(node, dict):
        if node.get("type") == "string" and "enum" not in node:
            node["type"] = ["string", "number"]
        for value in node.values():
            _text_or_number(value)
    elif isinstance(node, list):
        for value in node:
            _text_or_number(value)
