"""The knowledge service: answers callers' free questions (Rasa REST webhook format).

A skeleton for now; the index, search and webhook arrive with the knowledge-service work.
"""

from __future__ import annotations
