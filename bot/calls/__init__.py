"""The call core: one event of a call, from the CTI's news to the answer and what follows it.

It knows no transport: the HTTP edge (``bot.cti``) parses requests into ``Callback``
events and turns the answers' clip keys into the CTI's audio URLs.
"""
