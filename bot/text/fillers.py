"""The one filler list: what callers say that carries no words.

The backchannel detector strips these before judging an utterance (``呃，好吧`` is
``好``), intents drop the particles that end a clause (``好啊`` is ``好``), and the
knowledge base leaves them out of every view of a question.
"""

from __future__ import annotations

HESITATIONS = ("嗯", "恩", "呃", "额", "唉", "诶", "欸", "哎", "嗯嗯")
"""Sounds made while thinking or listening."""
PARTICLES = ("啊", "哦", "噢", "喔", "呀", "嘛", "啦", "嘞", "呐", "哇", "咯", "呗", "吧", "呢", "哈")
"""Modal particles: they colour a sentence (mostly at its end) but do not change it."""
DISCOURSE_FILLERS = ("那个", "这个", "就是说", "然后", "那么")
"""Words said to hold the turn while the caller thinks."""

THINKING_SOUNDS = ("呃", "额")
"""Hesitations that are never an answer (嗯 and 哎 may be a yes)."""
TURN_HOLDERS = frozenset(DISCOURSE_FILLERS + THINKING_SOUNDS)
"""Said alone, they answer nothing: the caller is still thinking (嗯……那个……, 嗯……呃……)."""
STARTERS = frozenset({"就是"})
"""Before more words, a way of starting them (就是……周末能办吗); alone, an answer
("exactly")."""

HEDGES = ("好像", "可能", "大概", "其实", "反正", "估计", "貌似", "似乎")
"""Words that soften a sentence without changing what it asks: 我的卡好像丢了 is 我的卡丢了."""

SOFTENERS = ("请问", "麻烦", "这边", "喂")
"""Words of politeness and address that do not change a request: 请问报销进度 is 报销进度,
麻烦帮我查一下 is 帮我查一下, 喂，我的卡丢了 is 我的卡丢了."""

SPOKEN_FILLERS = HESITATIONS + PARTICLES
"""The one-syllable fillers: what ``VOICEBOT_FILLERS`` strips by default."""
FILLERS = frozenset(SPOKEN_FILLERS + DISCOURSE_FILLERS)
"""Every filler."""
NOISE_WORDS = frozenset(HESITATIONS + DISCOURSE_FILLERS + HEDGES + SOFTENERS)
"""Whole words the intents leave out of an utterance (and of their examples), unless
nothing else is left: 嗯，我的卡好像丢了 is compared as 我的卡丢了, 嗯 alone as 嗯."""
FINAL_PARTICLES = "".join(p for p in PARTICLES if len(p) == 1)
"""The particles as one string, for ``str.rstrip`` at the end of a clause. Hesitations
are not stripped there: 额 ends 金额, 恩 ends 感恩."""
