"""A language model where the rules run out: optional, bounded, never in charge.

The call center's own model behind an OpenAI-compatible server (``VOICEBOT_LLM_URL``)
helps in three places, each of which works as before without it (docs/llm.md):

- ``intents``: when no intent reaches the threshold, the model chooses among the intents
  the waiting step accepts, or none;
- ``answers``: when the knowledge base finds related entries but none it can answer
  with, the model words an answer from those entries only, checked against them;
- ``summaries``: a call's summary and the words for its grade, next to the rules' grade.

The flows stay the source of truth: the model never adds a branch, a fact or an action.
``model`` is the contract every use asks through; ``openai_chat`` speaks to a server,
``guard`` bounds it (concurrency, budgets, cooldown), ``cassette`` records and replays
its answers for tests, ``asking`` journals and counts every request.
"""
