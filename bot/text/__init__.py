"""Chinese text as phone-line ASR writes it: one copy of each linguistic fact.

Both the flows' intents (``bot.dialog.nlu``) and the knowledge base (``knowledge``)
read callers' words through this package, which imports neither of them:

- ``segmenter``: the jieba word segmenter, one dictionary per process.
- ``features``: an utterance as the intent classifier compares it (clauses, n-grams,
  words, negations).
- ``pinyin``: the one fold table for the sounds ASR and accents confuse.
- ``fillers``: the one filler list.
- ``thesaurus``: the other words callers use for one thing (娃儿 for 孩子), by kind.
- ``greetings``: what a callee says on picking up (喂, 你好, 哪位).
- ``digits``: digit strings read aloud (幺三八 → 138).
- ``decoding``: UTF-8 or GBK bytes, byte-exact.
- ``tables``, ``pinyin_tables``: jieba's and pypinyin's dictionaries, built once and cached.
"""

from bot.text import pinyin_tables as _pinyin_tables

# Before anything imports pypinyin: it then reads its dictionaries from compact,
# cached tables (bot.text.pinyin_tables) instead of its JSON.
_pinyin_tables.install()
