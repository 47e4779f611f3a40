"""Planning an import: notes mapped to cards, grouped into one source per deck, with their ids,
tags, levels and media laid out, before anything is written.

A deck from an Anki package is kept exactly as Anki had it (``exactly_as_written``): field text
as it is, media under their own names in one flat folder (:mod:`.flat_media`), each note type as
it is (:mod:`.shapes`). Only a package deckkit itself built (every note of one of deckkit's own
note types) comes back as its author wrote it: escaping undone where that is exact, media under
the names they had beside the sources (:mod:`.media`); a rebuild gives the same notes either way.

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

from deckkit.cardtypes import CARD_TYPES, DEFAULT_CARD_TYPE, FIELDS_CARD_TYPE, LEVELS
from deckkit.fieldtext.cloze import deletion_text, parse_clozes
from deckkit.fieldtext.markup import escape_bare_markup, to_plain_text
from deckkit.importers.escaping import readable_html
from deckkit.importers.flat_media import FlatMedia, package_files, summary_of_missing
from deckkit.importers.ids import UniqueNames, slugify
from deckkit.importers.kept import Kept, conversion, declaration, kept_note_type
from deckkit.importers.mapping import Roles, card_content, is_letters, roles_for
from deckkit.importers.media import MediaNamer, MediaOut
from deckkit.importers.placing import card_decks, cards_kept, place_media
from deckkit.importers.shapes import exact_shapes, note_type_name
from deckkit.importers.types import (
    Collected,
    Conversion,
    NoteTypeInfo,
    RenamedMedia,
    Skipped,
    SourceNote,
)
from deckkit.importers.yaml_writer import Flow, source_text
from deckkit.lockfile import is_slug

_LEVEL_TAG = re.compile(rf"^level::({'|'.join(LEVELS)})$", re.IGNORECASE)
# Kept exactly: only the tag a build writes back as it was.
_EXACT_LEVEL_TAG = re.compile(rf"^level::({'|'.join(LEVELS)})$")
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
    mods: dict[str, int] = field(default_factory=dict)  # card id → its note's time in the input
    note_type_mods: dict[int, int] = field(default_factory=dict)  # declared note types' times


@dataclass(frozen=True)
class ImportPlan:
    """The files an import will write, before writing them."""

    decks: tuple[DeckOut, ...]
    media: tuple[MediaOut, ...]
    skipped: tuple[Skipped, ...]
    notices: tuple[str, ...]
    conversions: tuple[Conversion, ...] = ()
    kept: tuple[tuple[str, int], ...] = ()  # original note types cards keep: (name, notes)
    renamed: tuple[RenamedMedia, ...] = ()
    missing_media: tuple[str, ...] = ()
    exactly_as_written: bool = False


# A mapped note: the note, its card type, its source keys, and the original note type it keeps.
_Entry = tuple[SourceNote, str, dict[str, Any], Kept | None]


@dataclass(frozen=True)
class _Mapped:
    """The notes of an input mapped to cards, by deck, and what became of the others."""

    by_deck: dict[str, list[_Entry]] = field(default_factory=dict)
    skipped: Counter[tuple[str, str]] = field(default_factory=Counter)  # (note type, reason)
    conversions: Counter[Conversion] = field(default_factory=Counter)
    kept: Counter[str] = field(default_factory=Counter)  # notes per kept note type name


@dataclass
class _DeckData:
    """One deck's source, as data, before its media lists are known."""

    data: dict[str, Any]
    counts: Counter[str]
    mods: dict[str, int]
    kept: list[Kept]  # the note types it declares, in order of first use
    unplaced: int = 0  # notes with a card in another deck that card_decks cannot name


def is_exact(collected: Collected) -> bool:
    """Whether an input's decks are kept exactly as Anki had them: those of an Anki package, but
    a package deckkit built from sources (every note of one of deckkit's own note types)."""
    return collected.note_types_are_original and any(
        note.note_type.deckkit_kind is None for note in collected.notes
    )


def plan_import(
    collected: Collected,
    *,
    lock_ids: dict[str, tuple[str, str]] | None = None,
    reserved_ids: set[str] | None = None,
    origin: str = "",
    existing_media: dict[str, Any] | None = None,
) -> ImportPlan:
    """Map notes to cards, group them by deck, and lay out the source files and media.

    ``reserved_ids`` are deck ids already taken by other sources in the output folder;
    ``existing_media`` the files already in its ``media`` folder, by clash key
    (:func:`.flat_media.existing_media`).
    """
    lock_ids = lock_ids or {}
    exact = is_exact(collected)
    mapped = _map_notes(collected, exact=exact)
    flat = None
    media: MediaNamer | FlatMedia
    if exact:
        files = package_files(collected.media_dir, collected.unused_media)
        media = flat = FlatMedia(collected.media_dir, files, existing_media or {})
    else:
        media = MediaNamer(collected.media_dir)
    names = _kept_names(mapped)
    used_ids = UniqueNames(reserved_ids or ())
    planned: list[_DeckData] = []
    for deck_name, entries in mapped.by_deck.items():
        if flat is not None:
            flat.start_deck(deck_name)
        planned.append(
            _plan_deck(deck_name, entries, collected, lock_ids, used_ids, media, names, exact)
        )
    kept_media = place_media(flat, [deck.data for deck in planned], [d.kept for d in planned])
    decks = tuple(_rendered(deck, names, kept_media, origin) for deck in planned)
    if isinstance(media, FlatMedia):
        notices, written = list(summary_of_missing(media.all_missing())), media.out()
    else:
        notices, written = list(media.notices()), media.files()
    notices.extend(_unplaced_notice(sum(deck.unplaced for deck in planned)))
    return ImportPlan(
        decks=decks,
        media=tuple(written),
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
        renamed=tuple(flat.renamed) if flat else (),
        missing_media=tuple(flat.all_missing()) if flat else (),
        exactly_as_written=exact,
    )


def _map_notes(collected: Collected, *, exact: bool) -> _Mapped:
    """Each note as a card of its deck, or counted as skipped with the reason."""
    mapped = _Mapped()
    if exact:
        for note, shape in zip(collected.notes, exact_shapes(collected.notes), strict=True):
            if isinstance(shape, str):
                mapped.skipped[(note.note_type.name, shape)] += 1
                continue
            kind, keys, kept = shape
            mapped.by_deck.setdefault(note.deck, []).append((note, kind, keys, kept))
            if kept is not None:
                mapped.kept[note.note_type.name] += 1
        return mapped
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


def _kept_names(mapped: _Mapped) -> dict[NoteTypeInfo, str]:
    """Each kept note type's name, unique across the import: every deck declaring one note type
    declares it alike (its name is part of what the lockfile's entry for it fingerprints)."""
    names: dict[NoteTypeInfo, str] = {}
    used = UniqueNames(numbered="{base} ({number})")
    for entries in mapped.by_deck.values():
        for _note, _kind, _keys, kept in entries:
            if kept is not None and kept.info not in names:
                names[kept.info] = used.unique(kept.info.name)
    return names


def _plan_deck(
    deck_name: str,
    entries: list[_Entry],
    collected: Collected,
    lock_ids: dict[str, tuple[str, str]],
    used_deck_ids: UniqueNames,
    media: MediaNamer | FlatMedia,
    names: dict[NoteTypeInfo, str],
    exact: bool,
) -> _DeckData:
    locked = [lock_ids.get(note.guid or "") for note, _kind, _keys, _kept in entries]
    deck_id = _deck_id(deck_name, locked, used_deck_ids)
    used_deck_ids.add(deck_id)

    # Ids from the lockfile first, so that a slug never takes one of them.
    card_ids: list[str | None] = [
        match[1] if match and match[0] == deck_id else None for match in locked
    ]
    used_card_ids = UniqueNames(card_id for card_id in card_ids if card_id)
    level_tag = _EXACT_LEVEL_TAG if exact else _LEVEL_TAG
    level_and_tags = [_level_and_tags(note.tags, level_tag) for note, *_rest in entries]
    common = _common_tags([tags for _level, tags in level_and_tags]) if len(entries) > 1 else []
    cards = []
    counts: Counter[str] = Counter()
    mods: dict[str, int] = {}
    kept_here: dict[Kept, None] = {}  # each kept note type, once, in order of first use
    unplaced = 0
    for position, ((note, kind, keys, kept), card_id, (level, tags)) in enumerate(
        zip(entries, card_ids, level_and_tags, strict=True), start=1
    ):
        if card_id is None:
            first = _first_text(keys) if kind != FIELDS_CARD_TYPE else _sort_text(note)
            card_id = used_card_ids.unique(slugify(first, fallback=f"card-{position}", limit=48))
        card: dict[str, Any] = {"id": card_id}
        if card_ids[position - 1] is None and note.guid and collected.guids_are_original:
            card["guid"] = note.guid
        if kind not in (DEFAULT_CARD_TYPE, FIELDS_CARD_TYPE):  # left out, as in hand-written
            card["type"] = kind
        if kept is not None:
            kept_here.setdefault(kept)
            card["note_type"] = names[kept.info]
        elif kind == FIELDS_CARD_TYPE:
            card["note_type"] = note_type_name(note.note_type)
        if level:
            card["level"] = level
        if note.card_decks:
            placed = card_decks(note, kind, kept)
            if placed is None:
                unplaced += 1
            else:
                card["card_decks"] = placed
        kept_cards = cards_kept(note)
        if kept_cards is not None:
            card["cards"] = Flow(kept_cards)
        own_tags = [tag for tag in tags if tag not in common]
        if own_tags:
            card["tags"] = Flow(own_tags)
        card.update(_card_keys(kind, keys, media))
        cards.append(card)
        counts[kind] += 1
        mods[card_id] = note.mod
    data: dict[str, Any] = {"deck": deck_name, "id": deck_id}
    description = collected.descriptions.get(deck_name, "")
    if description.strip():
        data["description"] = media.rewrite(description if exact else readable_html(description))
    if common:
        data["tags"] = Flow(common)
    if exact:
        data["exactly_as_written"] = True
    data["cards"] = cards
    return _DeckData(data, counts, mods, list(kept_here), unplaced)


def _unplaced_notice(notes: int) -> list[str]:
    if not notes:
        return []
    which = "note has" if notes == 1 else "notes have"
    return [
        f"{notes} {which} cards in several decks that card_decks cannot name (a card its note "
        "type's templates do not make): the built deck gives a new learner all of them in the "
        "deck of the note's first card (a learner who has them keeps them where they are)"
    ]


def _rendered(
    deck: _DeckData,
    names: dict[NoteTypeInfo, str],
    media: dict[NoteTypeInfo, list[str]],
    origin: str,
) -> DeckOut:
    """A deck's source text, its note types declared after its cards."""
    data = deck.data
    if deck.kept:
        data["note_types"] = [
            declaration(kept, names[kept.info], media.get(kept.info, ())) for kept in deck.kept
        ]
    deck_id = str(data["id"])
    return DeckOut(
        deck_id,
        str(data["deck"]),
        f"{deck_id}.yaml",
        source_text(data, origin),
        dict(deck.counts),
        deck.mods,
        {kept.info.id: kept.info.mod for kept in deck.kept},
    )


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


def _card_keys(kind: str, keys: dict[str, Any], media: MediaNamer | FlatMedia) -> dict[str, Any]:
    """A card's keys as written: lists of letters on one line, media references rewritten."""
    if kind == FIELDS_CARD_TYPE:
        return {"fields": {name: media.rewrite(text) for name, text in keys["fields"].items()}}
    written: dict[str, Any] = {}
    for key, value in keys.items():
        if is_letters(kind, key):
            written[key] = Flow(value) if isinstance(value, list) else value
        elif isinstance(value, list):
            written[key] = [media.rewrite(item) for item in value]
        else:
            written[key] = media.rewrite(value)
    return written


def _level_and_tags(
    tags: Sequence[str], level_tag: re.Pattern[str]
) -> tuple[str | None, list[str]]:
    level = None
    rest: dict[str, None] = {}  # in order, each once: a dict, so a note's many tags stay linear
    for tag in tags:
        match = level_tag.match(tag)
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


def _sort_text(note: SourceNote) -> str:
    """A note's text for its card's id: its sort field, else its first field with any text."""
    info = note.note_type
    ordered = [note.fields[info.sort_field]] if info.sort_field < len(note.fields) else []
    for text in (*ordered, *note.fields):
        plain = to_plain_text(_revealed(escape_bare_markup(text)))
        if plain.strip():
            return plain
    return ""
