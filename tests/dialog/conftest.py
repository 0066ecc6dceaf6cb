"""The sample flows' classifiers, for the tests of what the rounds of issue 14 taught them."""

from __future__ import annotations

import pytest

from bot.dialog.nlu import IntentClassifier
from bot.dialog.registry import classifier_of
from bot.language.loader import load_flows
from bot.text.segmenter import Segmenter
from tests.conftest import FLOWS_DIR


@pytest.fixture(scope="module")
def yibao(segmenter: Segmenter) -> IntentClassifier:
    """The sample flow ``yibao``'s classifier, as the service builds it."""
    return classifier_of(load_flows(FLOWS_DIR)["yibao"].flow, segmenter, 0.5)


@pytest.fixture(scope="module")
def survey(segmenter: Segmenter) -> IntentClassifier:
    """The sample flow ``survey``'s classifier, as the service builds it."""
    return classifier_of(load_flows(FLOWS_DIR)["survey"].flow, segmenter, 0.5)
