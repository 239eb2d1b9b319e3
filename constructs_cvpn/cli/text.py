"""Show fields from AWS as plain text.

User names, certificate CNs, descriptions, DNS names and error messages come from AWS (and so,
ultimately, from whoever could set them). Printed to a terminal they must not act on it:

- no terminal control characters: C0 (except newline and tab), DEL and C1 are removed, so an
  ``ESC [ ...`` sequence cannot move the cursor, recolour, retitle the window or hide text;
  Unicode bidirectional overrides are removed too (they can reorder what is displayed);
- no rich markup: a ``[red]`` or ``[link=...]`` in a value is shown as those characters
  (:func:`cell` returns a :class:`rich.text.Text`, which rich never parses for markup).
"""

from __future__ import annotations

import re
from typing import Any

from rich.text import Text

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def plain(value: Any) -> str:
    """``str(value)`` without control characters (newline and tab are kept)."""
    return _CONTROL.sub("", str(value))


def cell(value: Any, style: str = "") -> Text:
    """``value`` as literal rich text: no markup interpretation, no control characters."""
    return Text(plain(value), style=style)
