"""The small, safe expression language of ``when:`` conditions and ``set:`` values.

Flow authors write expressions such as ``intent == "affirm" and attempts < 3`` or
``"您好，" + name``. :func:`compile_expression` parses and checks one when a flow
loads; :meth:`Expression.evaluate` computes it during a call and never raises.

Why Python's parser: the language is a strict subset of Python's expression
syntax, so ``ast.parse(source, mode="eval")`` reads it with exact columns and
well-tested error messages, and nothing here is ever handed to ``eval``. The
parser only builds a tree; :class:`_Compiler` then accepts a whitelist of node
types (literals, names, dotted names, ``and``/``or``/``not``, comparisons,
``+ - * / %``, unary minus, lists and calls of the functions in
:data:`FUNCTIONS`) and turns each into a Python closure. Anything else — attribute
access such as ``x.__class__``, subscripts, lambdas, comprehensions, f-strings,
``:=``, ``*`` unpacking, conditional expressions — is rejected with its column.
A hand-written Pratt parser would be as long again and would need its own error
reporting; Python's tokenizer also already knows Chinese text in strings.

Decisions, as flow authors see them (docs/flows.md explains them for authors):

* An unset variable is ``null``. Dotted names (``order.status``) look into nested
  mappings; a missing key or a non-mapping on the way is ``null`` as well.
* ``and``, ``or`` and ``not`` always give ``true`` or ``false`` (so ``set: vip:
  amount > 5000 and city == "北京"`` stores a boolean). Both short-circuit.
* ``==`` never converts: ``"3500" == 3500`` is false, and ``true`` is not ``1``;
  use ``int(x)`` to turn text into a number. ``<``, ``<=``, ``>``, ``>=`` compare two
  numbers or two texts; any other pair (``null``, text against number) is false.
* ``+`` adds numbers, joins lists, and joins text when either side is text
  (numbers are written out, ``null`` as nothing). In ``+`` and ``-`` a ``null``
  next to a number counts as 0, so ``attempts + 1`` works before the first
  attempt. Every other operation on values it does not fit gives ``null``, as
  does division or ``%`` by zero.
* Text made by ``+`` or ``*`` is cut at :data:`MAX_TEXT_LENGTH` characters and
  lists at :data:`MAX_LIST_LENGTH` items; numbers beyond ±10^24, infinities and
  NaN become ``null``. Expressions are at most :data:`MAX_SOURCE_LENGTH`
  characters and :data:`MAX_DEPTH` levels deep. This bounds the work of any call.
* ``x[0]`` is not supported: business lookups return mappings (dotted names) and
  lists are tested with ``in``, ``contains`` and ``len``.
"""

from __future__ import annotations

import logging

from bot.language.expressions.compiler import (
    MAX_DEPTH,
    MAX_SOURCE_LENGTH,
    Evaluator,
    ExpressionError,
    compile_evaluator,
)
from bot.language.expressions.functions import FUNCTIONS
from bot.language.expressions.values import (
    MAX_LIST_LENGTH,
    MAX_TEXT_LENGTH,
    Variables,
    is_variable_name,
    lookup,
    to_text,
    truthy,
)

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LIST_LENGTH",
    "MAX_SOURCE_LENGTH",
    "MAX_TEXT_LENGTH",
    "Evaluator",
    "Expression",
    "ExpressionError",
    "Variables",
    "compile_expression",
    "is_variable_name",
    "lookup",
    "to_text",
    "truthy",
]

logger = logging.getLogger(__name__)


class Expression:
    """A checked expression, ready to evaluate any number of times.

    Attributes:
        source: The expression as written.
        names: The variables it reads, dotted names as written (``order.status``);
            the part before the first dot is the variable itself.
    """

    __slots__ = ("_evaluator", "names", "source")

    def __init__(self, source: str, names: frozenset[str], evaluator: Evaluator) -> None:
        self.source = source
        self.names = names
        self._evaluator = evaluator

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    def evaluate(self, variables: Variables) -> object:
        """Compute the expression; never raises.

        Args:
            variables: The call's variables and slots; nested mappings are reached
                with dotted names.

        Returns:
            ``None``, a bool, int, float, str or list (or a value taken from
            ``variables`` as is).
        """
        try:
            return self._evaluator(variables)
        except Exception:  # the last guard: a phone call must go on whatever the data
            logger.warning("expression %r failed; its value is null", self.source, exc_info=True)
            return None


def compile_expression(source: str) -> Expression:
    """Parse and check an expression once, when its flow loads.

    Args:
        source: The expression as written in the flow. Line breaks count as spaces.

    Returns:
        The compiled expression.

    Raises:
        ExpressionError: The expression is empty, too long or too deep, cannot be
            parsed, or uses something the language does not have.
    """
    evaluator, names = compile_evaluator(source)
    return Expression(source, names, evaluator)
