"""The preview page's data read back the way its script reads it (the layout is in
``deckkit.preview.data``'s docstring): the index, and each card's front and back as shown."""

from __future__ import annotations

import json
import re
from typing import Any

DATA = re.compile(r'<script type="application/json" id="(dk-[a-z0-9-]+)">(.*?)</script>', re.DOTALL)


def page_data(html: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The page's index, and the (front, back) HTML of each card, in the page's order."""
    blocks = dict(DATA.findall(html))
    index: dict[str, Any] = json.loads(blocks["dk-index"])
    sides: list[tuple[str, str]] = []
    number = 0
    while f"dk-sides-{number}" in blocks:
        for front, shared, rest in json.loads(blocks[f"dk-sides-{number}"]):
            # ``shared`` counts UTF-16 units, as JavaScript's strings do.
            units = front.encode("utf-16-le")[: 2 * shared].decode("utf-16-le")
            sides.append((front, units + rest))
        number += 1
    assert len(sides) == len(index["cards"])
    return index, sides


def sides_html(html: str) -> str:
    """Every card's front and back HTML, one after the other."""
    return "\n".join(side for pair in page_data(html)[1] for side in pair)
