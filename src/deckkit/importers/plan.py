"""Planning an import: notes mapped to cards, grouped into one source per deck, with their ids,
tags, levels and media laid out, before anything is written.

A card's id is the one a deckkit lockfile gives its note's GUID, else a slug of its first text.
Notes keep their GUID in the card key ``guid``, except notes whose GUID is the one deckkit itself
derives from a lockfile entry's deck and card ids: those get back exactly those ids.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from deckkit.cardtypes import CARD_TYPES, DEFAULT_CARD_TYPE, LEVELS
from deckkit.fieldtext.cloze import deletion_text, parse_clozes
from deckkit.fieldtext.markup import escape_bare_markup, to_plain_text
from deckkit.importers.escaping import readable_html
from deckkit.importers.ids import UniqueNames, slugify
from deckkit.importers.kept import Kept, conversion, declaration, kept_note_type
from deckkit.importers.mapping import Roles, card_content, is_letters, roles_for
from deckkit.importers.media import MediaNamer, MediaOut
from deckkit.importers.types import Collected, Conversion, NoteTypeInfo, Skipped, SourceNote
from deckkit.importers.yaml_writer import Flow, source_text
from deckkit.lockfile import is_slug

_LEVEL_TAG = re.compile(rf"^level::({'|'.join(LEVELS)})$", re.IGNORECASE)
# The keys a card's id is made from: each card type's first text key.
_ID_KEYS = tuple(dict.fromkeys(card_type.text_keys[0] for card_type in CARD_TYPES.values()))


@dataclass(frozen=True)
class DeckOut:
    """One deck's source file, as text."""

    id: str
    name: str
    file_name: str
    text: str
    cards_by_type: dict[str, int]


@dataclass(frozen=True)
class ImportPlan:
    """The files an import will write, before writing them."""

    decks: tuple[DeckOut, ...]
    media: tuple[MediaOut, ...]
    skipped: tuple[Skipped, ...]
    notices: tuple[str, ...]
    conversions: tuple[Conversion, ...] = ()
    kept: tuple[tuple[str, int], ...] = ()  # original note types cards keep: (name, notes)


# A mapped note: the note, its card type, its source keys, and the original note type it keeps.
_Entry = tuple[SourceNote, str, dict[str, Any], Kept | None]


@dataclass(frozen=True)
class _Mapped:
    """The notes of an input mapped to cards, by deck, and what became of the others."""

    by_deck: dict[str, list[_Entry]] = field(default_factory=dict)
    skipped: Counter[tuple[str, str]] = field(default_factory=Counter)  # (note type, reason)
    conversions: Counter[Conversion] = field(default_factory=Counter)
    kept: Counter[str] = field(default_factory=Counter)  # notes per kept note type name


def plan_import(
    collected: Collected,
    *,
    lock_ids: dict[str, tuple[str, str]] | None = None,
    reserved_ids: set[str] | None = None,
    origin: str = "",
) -> ImportPlan:
    """Map notes to cards, group them by deck, and lay out the source files and media.

    ``reserved_ids`` are deck ids already taken by other sources in the output folder.
    """
    lock_ids = lock_ids or {}
    mapped = _map_notes(collected)
    media = MediaNamer(collected.media_dir)
    decks: list[DeckOut] = []
    used_ids = UniqueNames(reserved_ids or ())
    for deck_name, entries in mapped.by_deck.items():
        decks.append(_plan_deck(deck_name, entries, collected, lock_ids, used_ids, media, origin))
    notices = list(media.notices())
    return ImportPlan(
        decks=tuple(decks),
        media=tuple(media.files()),
        skipped=(
            *collected.skipped,
            *(Skipped(name, count, reason) for (name, reason), count in mapped.skipped.items()),
        ),
        notices=tuple(notices),
        conversions=tuple(
            replace(change, count=count) for change, count in mapped.conversions.items()
        )
        if collected.guids_are_original
        else (),
        kept=tuple(mapped.kept.items()),
    )


def _map_notes(collected: Collected) -> _Mapped:
    """Each note as a card of its deck, or counted as skipped with the reason."""
    mapped = _Mapped()
    roles_cache: dict[NoteTypeInfo, Roles | None] = {}
    for note in collected.notes:
        if note.note_type not in roles_cache:
            roles_cache[note.note_type] = roles_for(note.note_type)
        roles = roles_cache[note.note_type]
        if roles is None:
            mapped.skipped[(note.note_type.name, "cannot be mapped")] += 1
            continue
        content = card_content(roles, note.fields)
        if isinstance(content, str):
            mapped.skipped[(note.note_type.name, content)] += 1
            continue
        kind, keys = content
        kept = None
        if collected.note_types_are_original:
            kept = kept_note_type(note.note_type, roles, kind)
        mapped.by_deck.setdefault(note.deck, []).append((note, kind, keys, kept))
        if kept is not None:
            mapped.kept[note.note_type.name] += 1
        elif note.note_type.deckkit_kind is None:
            mapped.conversions[conversion(note.note_type, roles, kind)] += 1
    return mapped


def _plan_deck(
    deck_name: str,
    entries: list[_Entry],
    collected: Collected,
    lock_ids: dict[str, tuple[str, str]],
    used_deck_ids: UniqueNames,
    media: MediaNamer,
    origin: str,
) -> DeckOut:
    locked = [lock_ids.get(note.guid or "") for note, _kind, _keys, _kept in entries]
    deck_id = _deck_id(deck_name, locked, used_deck_ids)
    used_deck_ids.add(deck_id)

    # Ids from the lockfile first, so that a slug never takes one of them.
    card_ids: list[str | None] = [
        match[1] if match and match[0] == deck_id else None for match in locked
    ]
    used_card_ids = UniqueNames(card_id for card_id in card_ids if card_id)
    level_and_tags = [_level_and_tags(note.tags) for note, _kind, _keys, _kept in entries]
    common = _common_tags([tags for _level, tags in level_and_tags]) if len(entries) > 1 else []
    cards = []
    counts: Counter[str] = Counter()
    kept_names: dict[Kept, str] = {}  # each kept note type's name in this deck, unique
    used_kept_names = UniqueNames(numbered="{base} ({number})")
    for position, ((note, kind, keys, kept), card_id, (level, tags)) in enumerate(
        zip(entries, card_ids, level_and_tags, strict=True), start=1
    ):
        if card_id is None:
            card_id = used_card_ids.unique(
                slugify(_first_text(keys), fallback=f"card-{position}", limit=48)
            )
        card: dict[str, Any] = {"id": card_id}
        if card_ids[position - 1] is None and note.guid and collected.guids_are_original:
            card["guid"] = note.guid
        if kind != DEFAULT_CARD_TYPE:  # left out, as in hand-written sources
            card["type"] = kind
        if kept is not None:
            if kept not in kept_names:
                kept_names[kept] = used_kept_names.unique(kept.info.name)
            card["note_type"] = kept_names[kept]
        if level:
            card["level"] = level
        own_tags = [tag for tag in tags if tag not in common]
        if own_tags:
            card["tags"] = Flow(own_tags)
        card.update(_card_keys(kind, keys, media))
        cards.append(card)
        counts[kind] += 1
    data: dict[str, Any] = {"deck": deck_name, "id": deck_id}
    description = collected.descriptions.get(deck_name, "")
    if description.strip():
        data["description"] = media.rewrite(readable_html(description))
    if common:
        data["tags"] = Flow(common)
    data["cards"] = cards
    if kept_names:
        data["note_types"] = [declaration(kept, name) for kept, name in kept_names.items()]
    return DeckOut(deck_id, deck_name, f"{deck_id}.yaml", source_text(data, origin), dict(counts))


def _deck_id(
    deck_name: str, locked: Sequence[tuple[str, str] | None], used_deck_ids: UniqueNames
) -> str:
    """The deck id most of the deck's notes have in the lockfile, else a slug of its name."""
    votes = Counter(match[0] for match in locked if match)
    if votes:
        candidate = votes.most_common(1)[0][0]
        # The id names the file written: only an id as the schema defines them, never a path
        # (read_lockfile already refuses any other; this holds for every caller).
        if is_slug(candidate) and candidate not in used_deck_ids:
            return candidate
    return used_deck_ids.unique(slugify(deck_name, fallback="deck"))


def _card_keys(kind: str, keys: dict[str, Any], media: MediaNamer) -> dict[str, Any]:
    """A card's keys as written: lists of letters on one line, media references rewritten."""
    written: dict[str, Any] = {}
    for key, value in keys.items():
        if is_letters(kind, key):
            written[key] = Flow(value) if isinstance(value, list) else value
        elif isinstance(value, list):
            written[key] = [media.rewrite(item) for item in value]
        else:
            written[key] = media.rewrite(value)
    return written


def _level_and_tags(tags: Sequence[str]) -> tuple[str | None, list[str]]:
    level = None
    rest: dict[str, None] = {}  # in order, each once: a dict, so a note's many tags stay linear
    for tag in tags:
        match = _LEVEL_TAG.match(tag)
        if match and level is None:
            level = match.group(1).lower()
        else:
            rest.setdefault(tag)
    return level, list(rest)


def _common_tags(tag_lists: list[list[str]]) -> list[str]:
    if not tag_lists:
        return []
    shared = set(tag_lists[0]).intersection(*map(set, tag_lists[1:]))
    return [tag for tag in tag_lists[0] if tag in shared]


def _revealed(text: str) -> str:
    """A field's text with each cloze deletion shown as its answer (read by deckkit's one cloze
    parser, in linear time: a pattern with two lazy parts took minutes on a run of '{{c1::')."""
    return "".join(
        node if isinstance(node, str) else deletion_text(node) for node in parse_clozes(text)
    )


def _first_text(keys: dict[str, Any]) -> str:
    for name in _ID_KEYS:
        if name in keys:
            return to_plain_text(_revealed(escape_bare_markup(str(keys[name]))))
    return ""
