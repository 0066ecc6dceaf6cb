"""One filler list: the backchannel default, the intents' final particles, the knowledge views."""

from __future__ import annotations

from bot.config import DEFAULT_FILLERS, Settings
from bot.text.features import Analyser
from bot.text.fillers import DISCOURSE_FILLERS, FILLERS, FINAL_PARTICLES, HESITATIONS, SPOKEN_FILLERS
from bot.text.segmenter import Segmenter
from knowledge.text import FILLER_WORDS, Analyzer


def test_every_use_draws_on_the_one_list() -> None:
    assert DEFAULT_FILLERS == SPOKEN_FILLERS == Settings().fillers
    assert set(FINAL_PARTICLES) <= FILLERS
    assert FILLERS <= FILLER_WORDS  # the knowledge base leaves them out of every view
    assert set(DISCOURSE_FILLERS) <= FILLERS


def test_hesitations_that_end_words_are_not_stripped_as_particles() -> None:
    assert {"额", "恩"} <= set(HESITATIONS)
    assert not {"额", "恩"} & set(FINAL_PARTICLES)  # 金额, 感恩


def test_intents_drop_final_particles(segmenter: Segmenter) -> None:
    analyser = Analyser({}, segmenter.cut)
    assert analyser.analyse("好啊").clauses == analyser.analyse("好").clauses == ["好"]
    assert analyser.analyse("查一下金额").clauses == ["查一下金额"]


def test_knowledge_leaves_fillers_out(segmenter: Segmenter) -> None:
    analyzer = Analyzer(segmenter)
    assert analyzer.features("那个，就是说，医保卡丢了呗") == analyzer.features("医保卡丢了")
