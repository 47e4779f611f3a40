"""The deck model: frozen values built from a validated source, with no I/O beyond hashing media.

Text here is final HTML: bare ``<``/``&`` escaped and media references rewritten to packed names,
so every exporter shows the same thing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import astuple, dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from deckkit.card_names import CardNames, card_names
from deckkit.cardtypes import (
    DEFAULT_CARD_TYPE,
    FIELDS_CARD_TYPE,
    Basic,
    Cloze,
    Content,
    Fields,
    MultipleChoice,
    Open,
    Reversed,
    TypeIn,
)
from deckkit.fieldtext.markdown import markdown_html, uses_markdown
from deckkit.fieldtext.markup import field_html
from deckkit.fieldtext.media import (
    FLAT_MEDIA_FOLDER,
    MediaFile,
    MediaPacker,
    may_refer_to_media,
    resolve_reference,
)
from deckkit.notetypes import (
    NOTE_TYPES,
    AnkiNoteType,
    NoteType,
    builtin_as_declared,
    card_fields,
    card_ordinals,
    declared_note_type_id,
    note_type_for,
)
from deckkit.sources.declared import DeclaredNoteType, declared_note_types, field_options
from deckkit.sources.loader import LoadedSource
from deckkit.sources.rereading import keeping_reads


@dataclass(frozen=True)
class Card:
    """One card source: a single Anki note (which may make several Anki cards)."""

    id: str
    type: str
    guid: str
    content: Content
    tags: tuple[str, ...]
    level: str | None
    note_type: AnkiNoteType | None = None  # None: deckkit's own note type for the card type
    # (ordinal, deck name) of each Anki card placed in another deck than the file's (card_decks).
    decks: tuple[tuple[int, str], ...] = ()
    guid_given: bool = False  # whether the source gives ``guid`` (else it comes from the ids)
    # The ordinals of the Anki cards the note has, when not those its templates make (``cards``:
    # a deck kept as Anki had it, whose notes may lack a card or keep one); None: the templates'.
    cards: tuple[int, ...] | None = None

    @property
    def kind(self) -> str:
        """What summaries and the preview call the card: its card type, or for a card giving
        its fields by name, the name of its note type."""
        if self.type == FIELDS_CARD_TYPE and self.note_type is not None:
            return self.note_type.name
        return self.type


@dataclass(frozen=True)
class Deck:
    """One source file's deck, ready to export."""

    id: str
    name: str
    description: str
    anki_id: int
    cards: tuple[Card, ...]
    media: tuple[MediaFile, ...]
    source: Path
    note_types: tuple[AnkiNoteType, ...] = ()  # the note types it declares (and its files')
    files: tuple[Path, ...] = ()  # files read besides the source: note-type files, templates, CSS
    exactly_as_written: bool = False  # kept as Anki had it (``deckkit import``)
    # Some of its field text is Markdown: its note types carry the code highlighter's CSS.
    markdown: bool = False

    @cached_property
    def fields(self) -> tuple[tuple[str, ...], ...]:
        """Each card's field values, in the order of the note type it is exported with.

        Worked out once: the lockfile and every exporter need them (an exporter in a forked
        process inherits them already made).
        """
        return tuple(card_fields(card.content, card.note_type) for card in self.cards)

    @cached_property
    def card_ordinals(self) -> tuple[list[int], ...]:
        """For each card, the ordinals of the Anki cards its note makes (see
        ``notetypes.card_ordinals``): worked out once for the .apkg, the summary and the preview."""
        return tuple(list(_card_ordinals(card)) for card in self.cards)

    def deck_of(self, card: Card, ordinal: int) -> str:
        """The deck an Anki card of ``card`` goes to: the one its ``card_decks`` names for its
        template, else the file's."""
        for placed, name in card.decks:
            if placed == ordinal:
                return name
        return self.name

    @cached_property
    def deck_names(self) -> tuple[str, ...]:
        """Every deck the cards go to: the file's first, then those ``card_decks`` name."""
        names = dict.fromkeys(
            [self.name, *(name for card in self.cards for _o, name in card.decks)]
        )
        return tuple(names)

    def anki_id_of(self, name: str) -> int:
        """The Anki id of one of :attr:`deck_names` in the package."""
        return self._deck_ids[name]

    @cached_property
    def _deck_ids(self) -> dict[str, int]:
        # Anki matches decks by name on import: an id only has to be stable and distinct within
        # the package, so one that two names would share is moved on.
        ids = {self.name: self.anki_id}
        taken = {self.anki_id}
        for name in self.deck_names[1:]:
            anki_id = named_deck_id(name)
            while anki_id in taken:
                anki_id += 1
            ids[name] = anki_id
            taken.add(anki_id)
        return ids


def anki_deck_id(deck_id: str) -> int:
    """A stable Anki deck id from the deck slug (in the range Anki's own ids use)."""
    digest = hashlib.sha256(f"deckkit-deck:{deck_id}".encode()).digest()
    return (1 << 30) + int.from_bytes(digest[:8], "big") % (1 << 30)


def named_deck_id(name: str) -> int:
    """A stable Anki deck id for a deck only cards' ``card_decks`` name, from its name."""
    digest = hashlib.sha256(f"deckkit-deck-name:{name}".encode()).digest()
    return (1 << 30) + int.from_bytes(digest[:8], "big") % (1 << 30)


# `deckkit watch` models a deck again after each save, where nearly every card is as before: what
# depends on a card alone (a frozen value) is kept for this many cards.
KEPT_CARDS = 150_000


@lru_cache(maxsize=KEPT_CARDS)
def _card_ordinals(card: Card) -> tuple[int, ...]:
    if card.cards is not None:
        return card.cards
    fields = card_fields(card.content, card.note_type)
    note_type = note_type_for(card.type, card.note_type)
    return tuple(card_ordinals(note_type, fields, tagged=bool(card.tags)))


@lru_cache(maxsize=KEPT_CARDS)
def note_guid(deck_id: str, card_id: str) -> str:
    """The note GUID: from the deck and card ids only, never from the text, so edits update.

    The same value as ``genanki.guid_for(deck_id, card_id)`` (a test pins it), computed without
    genanki's bit-by-bit loop: the first 8 bytes of a SHA-256, written in Anki's base 91.
    """
    number = int.from_bytes(hashlib.sha256(f"{deck_id}__{card_id}".encode()).digest()[:8], "big")
    digits: list[str] = []
    while number:
        number, digit = divmod(number, _BASE91_SIZE)
        digits.append(_BASE91[digit])
    return "".join(reversed(digits))


# Anki's base 91 (anki/utils.py, base91): these characters in this order.
_BASE91 = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"
)
_BASE91_SIZE = len(_BASE91)


def deck_from_source(source: LoadedSource, rendered: Mapping[str, str] | None = None) -> Deck:
    """Build the deck model from a source whose data passed validation; ``rendered`` may give
    Markdown texts' HTML already rendered (by another process: see deckkit.pipeline)."""
    data: dict[str, Any] = source.data
    source_dir = source.path.parent
    as_written = bool(data.get("exactly_as_written"))
    packer = MediaPacker(
        source_dir,
        flat_folder=source_dir / FLAT_MEDIA_FOLDER if as_written else None,
        missing=frozenset(data.get("missing_media") or ()),
    )

    deck_markdown = uses_markdown(data, project_default=source.markdown)
    done = rendered or {}

    def markdown_done(text: str) -> str:
        found = done.get(text)
        return markdown_html(text) if found is None else found

    renderers: dict[bool, Callable[[str], str]] = {False: field_html, True: markdown_done}

    def html_of(markdown: bool) -> Callable[[Any], str]:
        render = renderers[markdown and not as_written]

        def html(value: Any) -> str:
            text = "" if value is None else str(value)
            return packer.pack(text if as_written else render(text))

        return html

    html_by_syntax = {markdown: html_of(markdown) for markdown in (False, True)}
    html = html_by_syntax[deck_markdown]
    markdown_cards = [uses_markdown(raw, project_default=deck_markdown) for raw in data["cards"]]
    deck_tags = tuple(data.get("tags") or ())
    declared = declared_note_types(source)
    note_types = tuple(anki_note_type(d) for d in declared.note_types)
    by_name = {**_BUILTIN_BY_NAME, **{note_type.name: note_type for note_type in note_types}}
    settings = (data["id"], deck_tags, deck_markdown, as_written, source_dir, packer.missing)
    kept = _kept_cards(source.path, (*settings, note_types)) if rendered is None else None
    cards = tuple(
        _card_kept(kept, data["id"], raw, deck_tags, html_by_syntax[markdown], by_name)
        for raw, markdown in zip(data["cards"], markdown_cards, strict=True)
    )
    for note_type in note_types:
        for media in note_type.media:
            packer.add(media.source)
    for name in data.get("media") or ():
        packer.add(resolve_reference(name, source_dir))
    return Deck(
        id=data["id"],
        name=data["deck"],
        description=html(data.get("description")),
        anki_id=anki_deck_id(data["id"]),
        cards=cards,
        media=packer.files(),
        source=source.path,
        note_types=note_types,
        files=tuple(declared.files),
        exactly_as_written=as_written,
        markdown=not as_written and (deck_markdown or any(markdown_cards)),
    )


_BUILTIN_BY_NAME = {t.name: builtin_as_declared(t) for t in NOTE_TYPES.values()}
# Anki's JSON key for each field option a declaration may give.
FIELD_OPTIONS = {
    "font": "font",
    "size": "size",
    "rtl": "rtl",
    "description": "description",
    "sticky": "sticky",
    "plain_text": "plainText",
    "collapsed": "collapsed",
    "exclude_from_search": "excludeFromSearch",
}
TEMPLATE_OPTIONS = {
    "browser_front": "bqfmt",
    "browser_back": "bafmt",
    "browser_font": "bfont",
    "browser_font_size": "bsize",
}


def anki_note_type(declared: DeclaredNoteType) -> AnkiNoteType:
    """A declared note type: its text exactly as written (or as its files hold it)."""
    raw = declared.raw
    kind = raw.get("kind")
    fields = []
    options = []
    required = []
    for name, given in field_options(raw):
        fields.append((name, given.get("role") if kind else None))
        options.append(tuple((FIELD_OPTIONS[k], given[k]) for k in FIELD_OPTIONS if k in given))
        if given.get("required"):
            required.append(name)
    names = [name for name, _role in fields]
    sort_field = raw.get("sort_field")
    templates = raw.get("templates") or []
    template_options = tuple(
        tuple((TEMPLATE_OPTIONS[k], t[k]) for k in TEMPLATE_OPTIONS if k in t) for t in templates
    )
    folder = declared.source.path.parent
    return AnkiNoteType(
        name=raw["name"],
        id=int(raw["id"]) if "id" in raw else declared_note_type_id(raw["name"]),
        mod=int(raw["mod"]) if "mod" in raw else None,
        kind=kind,
        fields=tuple(fields),
        templates=declared.templates,
        css=declared.css,
        cloze=bool(raw.get("cloze", kind == "cloze")),
        field_options=tuple(options) if any(options) else (),
        template_options=template_options if any(template_options) else (),
        sort_field=names.index(sort_field) if sort_field in names else 0,
        latex=(raw.get("latex_pre"), raw.get("latex_post"), bool(raw.get("latex_svg"))),
        media=tuple(
            MediaFile(target, target.name)
            for target in (resolve_reference(name, folder) for name in raw.get("media") or ())
        ),
        required=tuple(required),
    )


# `deckkit watch` models a deck again after each save, where the cards the save left alone are the
# very dicts read before (deckkit.sources.rereading): each one's Card is reused while the deck's
# settings are as they were, unless it refers to media (packing it records the files to pack).
_KeptCards = dict[int, tuple[dict[str, Any], Card]]  # by id(): each card's dict, and its Card
_kept: dict[Path, tuple[tuple[object, ...], _KeptCards]] = {}


def _kept_cards(path: Path, settings: tuple[object, ...]) -> tuple[_KeptCards, _KeptCards] | None:
    """The cards kept from the last model of ``path``, and those this one keeps (while watching)."""
    if not keeping_reads():
        return None
    before = _kept.get(path)
    now: _KeptCards = {}
    _kept[path] = (settings, now)
    return (before[1] if before is not None and before[0] == settings else {}), now


def _card_kept(
    kept: tuple[_KeptCards, _KeptCards] | None,
    deck_id: str,
    raw: dict[str, Any],
    deck_tags: tuple[str, ...],
    html: Any,
    note_types: dict[str, AnkiNoteType],
) -> Card:
    if kept is None:
        return _card(deck_id, raw, deck_tags, html, note_types)
    before, now = kept
    found = before.get(id(raw))
    if found is not None and found[0] is raw:
        card = found[1]
    else:
        card = _card(deck_id, raw, deck_tags, html, note_types)
        if any(may_refer_to_media(text) for text in _texts(astuple(card.content))):
            return card
    now[id(raw)] = (raw, card)
    return card


def _texts(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _texts(item)


def _card(
    deck_id: str,
    raw: dict[str, Any],
    deck_tags: tuple[str, ...],
    html: Any,
    note_types: dict[str, AnkiNoteType],
) -> Card:
    kind = FIELDS_CARD_TYPE if "fields" in raw else raw.get("type", DEFAULT_CARD_TYPE)
    level = raw.get("level")
    tags = [*deck_tags, *(raw.get("tags") or ())]
    if level:
        tags.append(f"level::{level}")
    note_type = note_types[raw["note_type"]] if "note_type" in raw else None
    return Card(
        id=raw["id"],
        type=kind,
        guid=raw.get("guid") or note_guid(deck_id, raw["id"]),
        content=_content(kind, raw, html),
        tags=tuple(dict.fromkeys(tags)),
        level=level,
        note_type=note_type,
        decks=_card_decks(raw.get("card_decks") or {}, note_type_for(kind, note_type)),
        guid_given=bool(raw.get("guid")),
        cards=_cards(raw.get("cards"), note_type_for(kind, note_type)),
    )


def _cards(named: list[str] | None, note_type: NoteType) -> tuple[int, ...] | None:
    """``cards`` by ordinal (validation checked the names); None when the card gives none."""
    if named is None:
        return None
    names = _card_names(note_type)
    return tuple(sorted({o for o in map(names.ordinal, named) if o is not None}))


def _card_decks(by_name: dict[str, str], note_type: NoteType) -> tuple[tuple[int, str], ...]:
    """``card_decks`` by the ordinal of each card it names (validation checked the names)."""
    names = _card_names(note_type)
    placed = []
    for name, deck in by_name.items():
        ordinal = names.ordinal(name)
        if ordinal is not None:
            placed.append((ordinal, str(deck)))
    return tuple(sorted(placed))


@lru_cache(maxsize=64)
def _card_names(note_type: NoteType) -> CardNames:
    return card_names(
        [name for name, _front, _back in note_type.templates], cloze=note_type.is_cloze
    )


def _content(kind: str, raw: dict[str, Any], html: Any) -> Content:
    if kind == FIELDS_CARD_TYPE:
        return Fields(tuple((str(name), html(text)) for name, text in raw["fields"].items()))
    if kind == "basic":
        return Basic(html(raw["front"]), html(raw["back"]))
    if kind == "reversed":
        return Reversed(html(raw["front"]), html(raw["back"]))
    if kind == "cloze":
        return Cloze(html(raw["text"]), html(raw.get("extra")))
    if kind == "type_in":
        return TypeIn(html(raw["front"]), html(raw["answer"]), html(raw.get("extra")))
    if kind == "multiple_choice":
        answer = raw["answer"]
        letters = [answer] if isinstance(answer, str) else list(answer)
        return MultipleChoice(
            question=html(raw["question"]),
            choices=tuple(html(choice) for choice in raw["choices"]),
            correct=tuple(sorted(letters)),
            explanation=html(raw.get("explanation")),
        )
    if kind == "open":
        return Open(
            prompt=html(raw["prompt"]),
            hint=html(raw.get("hint")),
            concepts=tuple(html(c) for c in raw.get("concepts") or ()),
            answer=html(raw.get("answer")),
        )
    raise ValueError(f"unknown card type {kind!r}")  # unreachable after validation


def content_as_written(kind: str, keys: dict[str, Any]) -> Content:
    """A card's content from its keys, taken as they are (a deck ``exactly_as_written``, media
    aside): ``deckkit import`` checks with it that a card gives back its note's fields."""
    return _content(kind, keys, lambda value: "" if value is None else str(value))
