"""The CTI's query hooks, defined in YAML beside the flows (``flows/hooks/``).

* :mod:`bot.hooks.ivr`: IVR self-service queries (``GET /cti/ivr``, GX CTI §13).
* :mod:`bot.hooks.routing`: incoming-call routing rules (``GET /cti/route``, GX CTI §11).
* :mod:`bot.hooks.files`: reading a hook file with located problems, shared by both.

Their HTTP surface is :mod:`bot.cti.ivr` and :mod:`bot.cti.route`; docs/hooks.md is
the authors' guide.
"""
