"""The failure reason is cut by its size as a JSON string, never by its length in characters.

Oracle: a brute-force search over every prefix of the text, sized with ``json.dumps`` (how the
response body is written), independent of the loop in ``cloudformation._cut``: the answer is
the text itself when it fits, else the longest prefix that fits together with ``…``.
"""

from __future__ import annotations

import json

import pytest

from constructs_cvpn.handlers import cloudformation


def _json_size(text: str) -> int:
    return len(json.dumps(text)) - 2  # without the quotes


def _expected(text: str, limit: int) -> str:
    if _json_size(text) <= limit:
        return text
    fitting = [k for k in range(len(text) + 1) if _json_size(text[:k] + "…") <= limit]
    return text[: max(fitting)] + "…"


TEXTS = [
    "a" * 40,
    "é" * 40,  # 6 bytes each as \u00e9
    "😀" * 20,  # 12 bytes each as a surrogate pair
    'quote " and back\\slash ' * 3,
    "a" * 9 + "😀" + "b" * 30,  # a wide character, then narrow ones that would still fit
    "x",
    "",
]


@pytest.mark.parametrize("text", TEXTS, ids=range(len(TEXTS)))
@pytest.mark.parametrize("limit", [6, 7, 11, 12, 13, 20, 39, 40, 41])
def test_the_cut_is_the_longest_prefix_that_fits(text: str, limit: int) -> None:
    cut = cloudformation._cut(text, limit)
    assert cut == _expected(text, limit)
    assert _json_size(cut) <= limit


def test_a_reason_of_exactly_the_limit_is_kept_whole() -> None:
    limit = cloudformation.MAX_REASON_BYTES
    assert cloudformation._cut("r" * limit, limit) == "r" * limit
    assert cloudformation._cut("r" * (limit + 1), limit).endswith("…")


class _StreamOnly:
    log_stream_name = "2026/12/06/[$LATEST]abc"
    log_group_name = None


def test_the_log_pointer_needs_both_the_group_and_the_stream() -> None:
    """Half a pointer ("log: None ...") sends the reader nowhere: name both or neither."""
    reason = cloudformation._reason(ValueError("boom"), _StreamOnly())
    assert reason == "boom"
