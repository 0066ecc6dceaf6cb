"""The flow file format (v1), as pydantic models.

A flow is a YAML file in the flows directory; its name is the file name without
``.yaml``. The models forbid unknown keys so that a misspelt key is an error that
names itself instead of being silently ignored. Later language features (slots,
conditions, sub-flows, HTTP steps) are new optional keys of ``Step`` and ``Flow``,
so files written for v1 stay valid.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

STEP_ACTIONS = ("ask", "goto", "transfer", "hangup")


class _Model(BaseModel):
    # Step names, targets and prompts are text even when written as numbers
    # (`goto: 2`, `transfer: 8001`, `say: 12345`).
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class Prompt(_Model):
    """Something the bot says. In YAML either a plain string or ``{text, interruptible}``."""

    text: str = Field(min_length=1)
    interruptible: bool = True

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        is_text = isinstance(value, str | int | float) and not isinstance(value, bool)
        return {"text": value} if is_text else value


class Ladder(_Model):
    """What to do when an asking step gets no usable answer: re-prompts, then a step."""

    prompts: list[Prompt] = Field(default_factory=list)
    then: str = Field(min_length=1)


class Intent(_Model):
    """Something a caller may mean, taught by example sentences and keywords."""

    examples: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_something(self) -> Intent:
        if not self.examples and not self.keywords:
            raise ValueError(
                "an intent needs at least one example or keyword — add `examples:` with sentences callers say"
            )
        return self


class NLUOptions(_Model):
    """Per-flow tuning of intent recognition."""

    threshold: float | None = Field(None, gt=0, lt=1)


class Defaults(_Model):
    """Ladders used by every asking step that does not declare its own."""

    silence: Ladder | None = None
    no_match: Ladder | None = None


class Step(_Model):
    """One step of a flow: optionally say something, then exactly one action."""

    say: Prompt | None = None
    ask: dict[str, str] | None = None
    goto: str | None = None
    transfer: str | None = None
    hangup: bool = False
    silence: Ladder | None = None
    no_match: Ladder | None = None

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        chosen = [name for name in STEP_ACTIONS if getattr(self, name)]
        if len(chosen) != 1:
            found = ", ".join(chosen) if chosen else "none"
            raise ValueError(
                f"a step needs exactly one of {', '.join(STEP_ACTIONS)} (found: {found}) — "
                "use `ask:` to wait for the caller, `goto:` to go on, `transfer:` or `hangup: true` to end"
            )
        if not self.ask and (self.silence or self.no_match):
            raise ValueError(
                "silence and no_match ladders only make sense on a step with ask — "
                "move them to the asking step or remove them"
            )
        return self


class Flow(_Model):
    """A whole conversation: intents it understands and the steps it walks through."""

    title: str = ""
    start: str | None = None
    intents: dict[str, Intent] = Field(default_factory=dict)
    synonyms: dict[str, list[str]] = Field(default_factory=dict)
    nlu: NLUOptions = Field(default_factory=NLUOptions)
    defaults: Defaults = Field(default_factory=Defaults)
    steps: dict[str, Step] = Field(min_length=1)

    @property
    def entry(self) -> str:
        return self.start or next(iter(self.steps))

    def silence_ladder(self, step_name: str) -> Ladder | None:
        return self.steps[step_name].silence or self.defaults.silence

    def no_match_ladder(self, step_name: str) -> Ladder | None:
        return self.steps[step_name].no_match or self.defaults.no_match

    def static_prompts(self) -> list[Prompt]:
        """Every prompt known before any call, to be rendered at start."""
        prompts: list[Prompt] = []
        ladders = [self.defaults.silence, self.defaults.no_match]
        for step in self.steps.values():
            if step.say:
                prompts.append(step.say)
            ladders += [step.silence, step.no_match]
        for ladder in ladders:
            if ladder:
                prompts.extend(ladder.prompts)
        return prompts
