"""The knowledge service: answers callers' free questions and agents' searches from a
knowledge base, over Rasa's REST webhook (protocols.md §5). See docs/knowledge.md."""

from __future__ import annotations
