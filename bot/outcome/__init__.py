"""Outcome push: a summary of every ended call, POSTed to ``VOICEBOT_OUTCOME_URL``.

``summary`` builds the payload, ``store`` keeps the outbox table, ``outbox`` delivers
it, ``publisher`` turns an ended call into a push. See docs/outcomes.md.
"""
