"""A normalised text as the body of an SSML ``<voice>`` element.

:func:`bot.speech.normalize.normalize_for_speech` already writes every number, code
and symbol in the hanzi it is said with, so SSML adds nothing for the reading
itself (no ``<say-as>``: 幺三八 needs none, and vendors disagree on its values). What
it adds is a pause of a known length. The normaliser marks pauses with punctuation
every backend reads as a pause and none reads aloud:

* ``，`` (between clauses and between the groups of a phone number) and ``。``
  (a sentence's end) stay as they are: every engine, SSML or not, pauses there.
* ``……`` (:data:`LONG_PAUSE`, what the normaliser makes of an author's ``...``,
  ``。。。`` or ``…``) is a long pause. A plain-text engine pauses at an ellipsis
  by itself; in SSML it becomes ``<break time="500ms"/>``, so every SSML vendor
  pauses equally long there.

The body is XML-escaped, quotes included (Aliyun's SSML guide, "SSML标记语言介绍",
https://help.aliyun.com/document_detail/146123.html, asks for ``&quot;`` and
``&apos;`` as well as ``&amp; &lt; &gt;``), and characters XML 1.0 cannot carry
(control characters) are dropped, so whatever the text holds the document stays
well formed. ``<break time="500ms"/>`` is the W3C element Azure ("SSML document
structure and events", https://learn.microsoft.com/azure/ai-services/speech-service/speech-synthesis-markup-structure),
Aliyun and Tencent Cloud all document.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

LONG_PAUSE = "……"
"""The normaliser's mark for a long pause (two U+2026): a plain-text engine pauses there."""

LONG_PAUSE_MS = 500
"""How long an SSML ``<break>`` makes a :data:`LONG_PAUSE`."""

_LONG_PAUSE_RUN = re.compile("…+")
_QUOTES = {'"': "&quot;", "'": "&apos;"}
# XML 1.0 allows tab, newline and carriage return among the C0 controls, nothing else;
# surrogates and U+FFFE/U+FFFF are not characters at all.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def ssml_body(text: str) -> str:
    """The SSML for a normalised text: escaped, with a ``<break>`` at each long pause.

    The result goes inside the vendor's ``<speak>``/``<voice>`` elements; it has no
    element of its own besides ``<break/>``.

    Args:
        text: Normalised text (see :func:`bot.speech.normalize.normalize_for_speech`);
            any text is accepted.

    Returns:
        Well-formed XML character content: ``幺三八，幺二三四……好的`` becomes
        ``幺三八，幺二三四<break time="500ms"/>好的``.
    """
    escaped = escape(_NOT_XML.sub("", text), _QUOTES)
    return _LONG_PAUSE_RUN.sub(f'<break time="{LONG_PAUSE_MS}ms"/>', escaped)
