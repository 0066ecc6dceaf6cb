"""The agent's screen after a transfer (docs/pbx.md, "Live transcripts and the agent page").

A signed link in ``biz_data`` (``links``), the robot calls handed to agents and the
matching of the CTI's live transcripts to them (``handovers``, ``screen``), the live
updates of the agent page through this process or Redis (``feed``), and what the page
shows (``screen``). The CTI's format of a live line is ``bot.cti.agent_speech``'s.
"""
