"""Phone numbers as the CTI sends them, made comparable; and masked for logs.

:func:`normalize_caller` turns the forms one caller's number arrives in into one
domestic form, so that a VIP list or an area-code prefix matches whichever trunk
the call came over:

==========================  ================  ======================================
sent                        normalized        why
==========================  ================  ======================================
``138 1234-5678``           ``13812345678``   spaces, dashes and brackets are dropped
``+8613812345678``          ``13812345678``   ``+86`` / ``0086`` is the country code
``+861012345678``           ``01012345678``   a landline after the country code gets
                                              back the trunk ``0`` of its area code
``8613812345678``           ``13812345678``   ``86`` before a mobile number (13
                                              digits); other numbers keep their 86,
                                              which may be a local number's start
``013812345678``            ``13812345678``   some trunks put ``0`` before a mobile
                                              number from another area
``01012345678``             ``01012345678``   a landline keeps its area code
``+14155550100``            ``0014155550100``  other countries: the international form
==========================  ================  ======================================

Anything left that is not 3 to 20 digits (an empty or hidden number,
``anonymous``) is ``None``.
"""

from __future__ import annotations

import re

from bot.privacy import mask_text

_SEPARATORS = re.compile(r"[\s\-()（）]+")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_NUMBER = re.compile(r"[0-9]{3,20}")


def normalize_caller(raw: str | None) -> str | None:
    """The domestic form of a caller's number (see the module docstring), or ``None``.

    Args:
        raw: The number as the CTI sent it.

    Returns:
        Digits only, landlines with their area code's ``0``; ``None`` when unusable.
    """
    if raw is None:
        return None
    number = _SEPARATORS.sub("", raw)
    if number.startswith("+"):
        number = "00" + number[1:]
    if number.startswith("0086"):
        national = number[4:]
        domestic = _MOBILE.fullmatch(national) or national.startswith("0")  # +86 0571… happens too
        number = national if domestic else "0" + national
    elif number.startswith("86") and _MOBILE.fullmatch(number[2:]):
        number = number[2:]
    elif number.startswith("0") and _MOBILE.fullmatch(number[1:]):
        number = number[1:]
    return number if _NUMBER.fullmatch(number) else None


def mask(value: str) -> str:
    """``value`` with its middle starred, for INFO logs.

    Keys and caller numbers may be ID card or phone numbers: those are masked as
    everywhere (:func:`bot.privacy.mask_text`, ``138****5678``). Other values (an
    account, a policy number) keep a fifth of each end, enough to tell log lines
    apart (``A*******6``); short ones are starred whole.
    """
    masked = mask_text(value)
    if masked != value:
        return masked
    keep = len(value) // 5
    if keep == 0:
        return "*" * len(value)
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]
