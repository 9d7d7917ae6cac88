"""The offline token estimate against a real BPE tokenizer (issue 18, item 6).

For natural text of every script the estimate must never be below ``o200k_base``'s count (so a
budget in estimated tokens bounds what is sent) and at most twice it (so a budget is not wasted).
"""

from __future__ import annotations

import pytest
from real_tokens import real_tokens
from scripts_corpus import CORPUS

from firebase_ai_chat.engines.token_estimate import estimate_text_tokens

COUNTS = dict(zip(CORPUS, real_tokens(list(CORPUS.values())), strict=True))


@pytest.mark.parametrize("sample", CORPUS)
def test_the_estimate_is_an_upper_bound_within_twice_the_real_count(sample: str) -> None:
    estimate, real = estimate_text_tokens(CORPUS[sample]), COUNTS[sample]
    assert real <= estimate <= 2 * real, f"{sample}: estimated {estimate}, o200k_base counts {real}"


def test_a_flat_four_characters_a_token_undercounts_what_the_estimate_covers() -> None:
    """The old rule, held to the same corpus: it is below the real count for every non-Latin script."""
    under = sorted(sample for sample, text in CORPUS.items() if -(-len(text) // 4) < COUNTS[sample])
    assert {"Chinese prose", "Japanese chat", "Hindi", "emoji run (issue 18)", "emoji flags"} <= set(under)


def test_the_estimate_grows_with_the_text_and_is_zero_only_for_nothing() -> None:
    assert estimate_text_tokens("") == 0
    for text in ("a", " ", "\n", "1", "!", "é", "你", "😀", "\x00"):
        assert estimate_text_tokens(text) >= 1, repr(text)
        assert estimate_text_tokens(text * 10) >= estimate_text_tokens(text), repr(text)
