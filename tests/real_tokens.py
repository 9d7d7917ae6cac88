"""Token counts of a real BPE tokenizer, for holding the offline estimate against them.

``tests/count_tokens.cjs`` encodes with the npm package ``gpt-tokenizer`` (installed by
``emulator/install`` from ``package.json``; it ships its vocabularies, so nothing is downloaded).
``o200k_base`` is the encoding of GPT-4o, GPT-4.1, GPT-5 and the o-series.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "count_tokens.cjs"


def real_tokens(texts: Sequence[str], encoding: str = "o200k_base") -> list[int]:
    """How many tokens each of ``texts`` costs in ``encoding``."""
    done = subprocess.run(
        ["node", str(SCRIPT), encoding], input=json.dumps(list(texts)), capture_output=True, text=True, check=True
    )
    counts = json.loads(done.stdout)
    assert isinstance(counts, list) and len(counts) == len(texts), done.stdout
    return [int(count) for count in counts]
