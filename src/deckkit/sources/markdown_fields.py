"""Which field texts of a source are Markdown, and the HTML the checks read in them.

A check reads a Markdown field as the HTML it becomes where the question is about HTML (a tag
left open, a script, a media reference, a field that shows nothing): ``<b>`` written in a code
span is text there, and ``![](media/x.png)`` is an image. A check about the characters written
(text Anki cannot store, cloze deletions) reads the text as written. Either way a problem is
placed in the YAML: at the character written when it can be found there, else at the field.

Rendering is what a large deck's checks spend their time on, so a check asks for the HTML only
when the text could hold what it looks for (:func:`may_hold_markup`, :func:`may_show_nothing`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from deckkit.cardtypes import LIST_KEYS, TEXT_KEYS
from deckkit.fieldtext.markdown import markdown_html, uses_markdown
from deckkit.problems import Problem
from deckkit.sources.loader import LoadedSource


def deck_uses_markdown(source: LoadedSource) -> bool:
    """Whether the deck's text (its description, and its cards' unless they say) is Markdown."""
    data = source.data
    if not isinstance(data, dict) or data.get("exactly_as_written") is True:
        return False
    return uses_markdown(data, project_default=source.markdown)


def card_uses_markdown(source: LoadedSource, card: Any, deck_markdown: bool) -> bool:
    """Whether a card's fields are Markdown (``deck_markdown``: :func:`deck_uses_markdown`)."""
    as_written = isinstance(source.data, dict) and source.data.get("exactly_as_written") is True
    return not as_written and uses_markdown(card, project_default=deck_markdown)


def may_hold_markup(text: str) -> bool:
    """False when a Markdown text surely renders to no tag a check looks for (an element, a
    script, an image, a media reference): it has no '<' (raw HTML, autolinks), no '![' (images)
    and no '[sound:'. A link cannot run a script: a javascript: link gets no address."""
    return "<" in text or "![" in text or "[sound:" in text


def may_show_nothing(text: str) -> bool:
    """False when a Markdown text surely shows something: it starts with a letter, which Markdown
    shows, or it holds a letter outside what may hide one (a link definition or raw
    HTML: '[' and '<'; an entity such as '&nbsp;'; a fence's language: '```python')."""
    if text.lstrip()[:1].isalpha():
        return False
    if any(mark in text for mark in _MAY_HIDE_LETTERS):
        return True
    return not any(char.isalpha() for char in text)


_MAY_HIDE_LETTERS = ("[", "<", "&", "```", "~~~")


def markdown_texts(source: LoadedSource) -> list[str]:
    """Every distinct Markdown text of a valid deck source, in the order written: what its model
    renders (its description and its cards' fields)."""
    data = source.data
    deck_markdown = deck_uses_markdown(source)
    texts: dict[str, None] = {}
    if deck_markdown and isinstance(data.get("description"), str):
        texts[data["description"]] = None
    for card in data.get("cards") or ():
        if not card_uses_markdown(source, card, deck_markdown):
            continue
        for name, value in card.items():
            if name in TEXT_KEYS and isinstance(value, str):
                texts[value] = None
            elif name in LIST_KEYS and isinstance(value, list):
                texts.update(dict.fromkeys(v for v in value if isinstance(v, str)))
            elif name == "fields" and isinstance(value, dict):
                texts.update(dict.fromkeys(v for v in value.values() if isinstance(v, str)))
    return list(texts)


def shown_html(text: str, markdown: bool) -> str:
    """The HTML a field's text becomes, as the checks read it: Markdown rendered (code not
    highlighted), HTML as written."""
    return markdown_html(text, highlighted=False) if markdown else text


# A line CommonMark may take for a link reference definition ("[label]: address"): a definition
# is never shown, so a field line such as "[1]: [sound:a.mp3]" would vanish from the card.
_DEFINITION = re.compile(r"^ {0,3}\[([^\]\n]+)\]:", re.MULTILINE)


def check_markdown_definitions(source: LoadedSource) -> Iterator[Problem]:
    """A line of a Markdown field that Markdown reads as a link definition shows nothing on the
    card: say so, where it is, with the way to show it as written."""
    data = source.data
    if not isinstance(data, dict) or not isinstance(data.get("cards"), list):
        return
    deck_markdown = deck_uses_markdown(source)
    for index, card in enumerate(data["cards"]):
        if not isinstance(card, dict) or not card_uses_markdown(source, card, deck_markdown):
            continue
        for path, text in _card_texts(card):
            for label in hidden_definitions(text):
                yield source.problem(
                    source.mark_of_value(("cards", index, *path)),
                    f"the line '[{label}]: ...' is a Markdown link definition, which the card "
                    f"does not show; write '\\[{label}]:' to show it as written",
                    "check.markdown-definition",
                    severity="warning",
                )


def _card_texts(card: dict[str, Any]) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Each text of a card's fields, with its path in the card."""
    for name, value in card.items():
        if name in TEXT_KEYS and isinstance(value, str):
            yield (name,), value
        elif name in LIST_KEYS and isinstance(value, list):
            yield from (((name, i), v) for i, v in enumerate(value) if isinstance(v, str))
        elif name == "fields" and isinstance(value, dict):
            yield from (((name, k), v) for k, v in value.items() if isinstance(v, str))


def hidden_definitions(text: str) -> list[str]:
    """The labels of the definition lines of ``text`` that its HTML does not show, but for those
    a reference link of the text uses (``[text][label]``, ``[label]``): those are meant."""
    labels = _DEFINITION.findall(text)
    if not labels:
        return []
    html = shown_html(text, markdown=True)
    return [
        label
        for label in labels
        if f"[{label}]:" not in html and text.count(f"[{label}]") <= labels.count(label)
    ]
