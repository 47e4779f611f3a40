"""Checks a JSON Schema cannot express. Each runs on any loaded data, valid or not, and skips
what it cannot read, so one run reports every problem of a file."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from deckkit.cardtypes import (
    CARD_TYPES,
    DEFAULT_CARD_TYPE,
    FIELDS_CARD_TYPE,
    LETTERS,
    LIST_KEYS,
    ROLE_CARD_TYPES,
    ROLES,
    TEXT_KEYS,
)
from deckkit.fieldtext.cloze import cloze_numbers
from deckkit.fieldtext.markup import is_blank
from deckkit.fieldtext.media import (
    FLAT_MEDIA_FOLDER,
    flat_reference_problem,
    is_url,
    may_refer_to_media,
    media_references,
    reference_problem,
)
from deckkit.filenames import names_a_device
from deckkit.notetypes import NOTE_TYPES
from deckkit.problems import Problem, shorten
from deckkit.sources.declared import declared_note_types
from deckkit.sources.loader import LoadedSource
from deckkit.sources.markdown_fields import (
    card_uses_markdown,
    check_markdown_definitions,
    deck_uses_markdown,
    may_hold_markup,
    may_show_nothing,
    shown_html,
)
from deckkit.sources.note_type_checks import check_declared_note_types
from deckkit.sources.text_checks import check_field_text
from deckkit.suggest import Hints


def _cards(source: LoadedSource) -> Iterator[tuple[int, dict[str, Any]]]:
    data = source.data
    cards = data.get("cards") if isinstance(data, dict) else None
    if isinstance(cards, list):
        for index, card in enumerate(cards):
            if isinstance(card, dict):
                yield index, card


def _card_type(card: dict[str, Any]) -> str:
    if "fields" in card:
        return FIELDS_CARD_TYPE
    kind = card.get("type", DEFAULT_CARD_TYPE)
    return kind if isinstance(kind, str) else ""


def check_duplicate_card_ids(source: LoadedSource) -> Iterator[Problem]:
    """Card ids make note GUIDs, so two cards of one deck cannot share one."""
    first_index: dict[str, int] = {}  # positions are looked up only for a duplicate
    for index, card in _cards(source):
        card_id = card.get("id")
        if not isinstance(card_id, str):
            continue
        if card_id in first_index:
            first = source.mark_of_value(("cards", first_index[card_id], "id"))
            yield source.problem(
                source.mark_of_value(("cards", index, "id")),
                f"card id '{card_id}' is already used at line {first.line}; "
                "card ids must be unique within a deck",
                "check.duplicate-card-id",
            )
        else:
            first_index[card_id] = index


def check_cloze_deletions(source: LoadedSource) -> Iterator[Problem]:
    """A cloze without {{c1::...}} (numbered from 1, closed) would make Anki show an error card."""
    for index, card in _cards(source):
        text = card.get("text")
        if (
            _card_type(card) == "cloze"
            and isinstance(text, str)
            and not is_blank(text)
            and not cloze_numbers(text)
        ):
            message = "cloze text has no deletion: mark the answer as {{c1::answer}}"
            if "{{c" in text:
                message = (
                    "cloze text has no complete deletion (a '{{c' never closed with '}}', or "
                    "numbered 0): write each one as {{c1::answer}}"
                )
            yield source.problem(
                source.mark_of_value(("cards", index, "text")),
                message,
                "check.cloze-without-deletion",
            )


def check_cloze_numbers_in_extra(source: LoadedSource) -> Iterator[Problem]:
    """Anki makes a cloze card for every deletion number in any field: one found only in 'extra'
    makes a card whose text has nothing to hide, which Anki shows as an error."""
    for index, card in _cards(source):
        text, extra = card.get("text"), card.get("extra")
        if _card_type(card) != "cloze" or not isinstance(extra, str) or "{{c" not in extra:
            continue
        only_in_extra = cloze_numbers(extra) - cloze_numbers(text if isinstance(text, str) else "")
        if only_in_extra:
            number = min(only_in_extra)
            yield source.problem(
                source.mark_of_value(("cards", index, "extra")),
                f"'extra' has cloze deletion {number}, which 'text' has not: Anki makes card "
                f"{number} anyway and shows it as an error; move the deletion into 'text'",
                "check.cloze-in-extra",
                "warning",
            )


def check_answer_in_choices(source: LoadedSource) -> Iterator[Problem]:
    """A multiple-choice answer letter must name one of the choices."""
    for index, card in _cards(source):
        choices, answer = card.get("choices"), card.get("answer")
        if _card_type(card) != "multiple_choice" or not isinstance(choices, list):
            continue
        letters = answer if isinstance(answer, list) else [answer]
        for position, letter in enumerate(letters):
            if (
                isinstance(letter, str)
                and letter in LETTERS
                and LETTERS.index(letter) >= len(choices)
            ):
                path: tuple[Any, ...] = ("cards", index, "answer")
                if isinstance(answer, list):
                    path = (*path, position)
                last = LETTERS[len(choices) - 1]
                yield source.problem(
                    source.mark_of_value(path),
                    f"answer '{letter}' is not one of the {len(choices)} choices (A..{last})",
                    "check.answer-not-a-choice",
                )


def check_empty_fields(source: LoadedSource) -> Iterator[Problem]:
    """Required fields must show something; an empty front makes Anki drop the card silently."""
    data = source.data
    if isinstance(data, dict) and isinstance(data.get("deck"), str) and not data["deck"].strip():
        yield source.problem(
            source.mark_of_value(("deck",)), "deck name is empty", "check.empty-field"
        )
    markdown = deck_uses_markdown(source)
    for index, card in _cards(source):
        card_type = CARD_TYPES.get(_card_type(card))
        in_markdown = card_uses_markdown(source, card, markdown)
        for name in card_type.must_show if card_type else ():
            value = card.get(name)
            if isinstance(value, str) and _shows_nothing(value, in_markdown):
                yield _empty(source, ("cards", index, name), f"'{name}'")
        for name in LIST_KEYS:
            items = card.get(name)
            if isinstance(items, list):
                for position, item in enumerate(items):
                    if isinstance(item, str) and _shows_nothing(item, in_markdown):
                        yield _empty(
                            source, ("cards", index, name, position), f"an item of '{name}'"
                        )


def _shows_nothing(text: str, markdown: bool) -> bool:
    """Whether a field shows nothing: a Markdown field once rendered ('-' alone is an empty
    list), read only when it may (:func:`may_show_nothing`)."""
    if markdown:
        return may_show_nothing(text) and is_blank(shown_html(text, markdown))
    return is_blank(text)


def _empty(source: LoadedSource, path: tuple[Any, ...], what: str) -> Problem:
    return source.problem(
        source.mark_of_value(path),
        f"{what} is empty (no text once HTML is removed); write it or remove the card",
        "check.empty-field",
    )


def check_media(source: LoadedSource) -> Iterator[Problem]:
    """Every media reference must be a file inside the source's folder (for a deck written
    exactly as Anki had it: a plain file name in its ``media`` folder); a file the original
    package already lacked (``missing_media``) is a warning."""
    data = source.data
    source_dir = source.path.parent
    fields: list[tuple[tuple[Any, ...], Any]] = []
    as_written = isinstance(data, dict) and data.get("exactly_as_written") is True
    missing = data.get("missing_media") if isinstance(data, dict) else None
    known_missing = (
        {m for m in missing if isinstance(m, str)} if isinstance(missing, list) else set()
    )
    markdown = deck_uses_markdown(source)
    if isinstance(data, dict):
        fields.append((("description",), _html_of(data.get("description"), markdown)))
    for index, card in _cards(source):
        # A Markdown field's references are those of its HTML (![](x.png) is an <img>).
        in_markdown = card_uses_markdown(source, card, markdown)
        for name, value in card.items():
            if name in LIST_KEYS and isinstance(value, list):
                fields += [
                    (("cards", index, name, i), _html_of(item, in_markdown))
                    for i, item in enumerate(value)
                    if _may_refer_to_media(item, in_markdown)
                ]
            elif name in TEXT_KEYS and _may_refer_to_media(value, in_markdown):
                fields.append((("cards", index, name), _html_of(value, in_markdown)))
            elif name == "fields" and isinstance(value, dict):
                fields += [
                    (("cards", index, name, field), _html_of(text, in_markdown))
                    for field, text in value.items()
                    if _may_refer_to_media(text, in_markdown)
                ]
    # A name is looked up on disk once: a stranger's field may name one file 100,000 times.
    checked: dict[str, tuple[str, str] | None] = {}
    hints = Hints()
    for path, value in fields:
        if not isinstance(value, str):
            continue
        for reference in media_references(value):
            ref = reference.name
            if is_url(ref):
                # Left as written (issue 3): a warning, so that --strict can refuse it (issue 6).
                yield source.problem(
                    source.mark_of_value(path),
                    f"media '{shorten(ref, 80)}' is a remote URL: it is not packed and Anki "
                    "shows it only when online; download it beside the source to pack it",
                    "check.media-url",
                    "warning",
                )
                continue
            if ref in known_missing:
                yield source.problem(
                    source.mark_of_value(path),
                    f"media file '{shorten(ref, 80)}' was already missing from the deck this "
                    "source was imported from (missing_media); Anki shows a broken image until "
                    f"you put the file in {FLAT_MEDIA_FOLDER}/ and remove it from missing_media",
                    "check.missing-media-known",
                    "warning",
                )
                continue
            if ref not in checked:
                checked[ref] = (
                    flat_reference_problem(ref, source_dir / FLAT_MEDIA_FOLDER)
                    if as_written
                    else reference_problem(ref, source_dir, hints=hints)
                )
            found = checked[ref]
            if found:
                message, code = found
                yield source.problem(source.mark_of_value(path), message, code)


def _may_refer_to_media(value: Any, markdown: bool) -> bool:
    if markdown:
        return isinstance(value, str) and may_hold_markup(value)
    return isinstance(value, str) and may_refer_to_media(value)


def _html_of(value: Any, markdown: bool) -> Any:
    return shown_html(value, markdown) if isinstance(value, str) else value


def _note_types(source: LoadedSource) -> Iterator[tuple[int, dict[str, Any]]]:
    data = source.data
    declared = data.get("note_types") if isinstance(data, dict) else None
    if isinstance(declared, list):
        for index, note_type in enumerate(declared):
            if isinstance(note_type, dict):
                yield index, note_type


def _fields(note_type: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    fields = note_type.get("fields")
    if isinstance(fields, list):
        for index, field in enumerate(fields):
            if isinstance(field, dict):
                yield index, field


def check_note_types(source: LoadedSource) -> Iterator[Problem]:
    """An original note type must be able to carry its kind of card: each field's role a key of
    that card type, the card type's required keys each in some field, cloze exactly for cloze.
    Names and ids are unique within the deck, and never one of deckkit's own note types' ids."""
    deckkit_ids = {note_type.id: note_type.name for note_type in NOTE_TYPES.values()}
    names: dict[str, int] = {}
    ids: dict[int, int] = {}
    for index, note_type in _note_types(source):
        where: tuple[Any, ...] = ("note_types", index)
        name, anki_id, kind = note_type.get("name"), note_type.get("id"), note_type.get("kind")
        if isinstance(name, str):
            mark = source.mark_of_value((*where, "name"))
            if name in names:
                yield source.problem(
                    mark,
                    f"note type name '{name}' is already declared at line {names[name]}; "
                    "give each note type of a deck its own name",
                    "check.duplicate-note-type",
                )
            else:
                names[name] = mark.line
        if isinstance(anki_id, int) and not isinstance(anki_id, bool):
            mark = source.mark_of_value((*where, "id"))
            if anki_id in deckkit_ids:
                yield source.problem(
                    mark,
                    f"note type id {anki_id} is deckkit's own '{deckkit_ids[anki_id]}'; "
                    "remove this note type and the cards' 'note_type' naming it",
                    "check.duplicate-note-type",
                )
            elif anki_id in ids:
                yield source.problem(
                    mark,
                    f"note type id {anki_id} is already declared at line {ids[anki_id]}; "
                    "declare each Anki note type once and name it from every card using it",
                    "check.duplicate-note-type",
                )
            else:
                ids[anki_id] = mark.line
        if not isinstance(kind, str) or kind not in ROLE_CARD_TYPES:
            continue  # the schema reports it
        allowed = CARD_TYPES[kind].roles
        filled = set()
        for position, field in _fields(note_type):
            role = field.get("role")
            # A role no card type has is the schema's to report.
            if isinstance(role, str) and role in ROLES and role not in allowed:
                yield source.problem(
                    source.mark_of_value((*where, "fields", position, "role")),
                    f"a {kind.replace('_', '-')} card has no '{role}'; "
                    f"use one of {', '.join(allowed)}, or null to leave the field empty",
                    "check.note-type-kind",
                )
            filled.add(role)
        missing = [key for key in CARD_TYPES[kind].must_show if key not in filled]
        if missing and isinstance(note_type.get("fields"), list):
            yield source.problem(
                source.mark_of_value((*where, "fields")),
                f"no field of note type '{name}' has the role {missing[0]}, so a "
                f"{kind.replace('_', '-')} card's '{missing[0]}' would be lost: "
                f"give one field that role",
                "check.note-type-kind",
            )
        cloze = note_type.get("cloze")
        if isinstance(cloze, bool) and cloze != (kind == "cloze"):
            yield source.problem(
                source.mark_of_value((*where, "cloze")),
                "only a cloze note type carries cloze cards: cloze must be "
                + ("true when kind is cloze" if kind == "cloze" else "false unless kind is cloze"),
                "check.note-type-kind",
            )


def check_portable_deck_id(source: LoadedSource) -> Iterator[Problem]:
    """A deck's id names its files (``<id>.apkg``): Windows has no file named after a device."""
    data = source.data
    deck_id = data.get("id") if isinstance(data, dict) else None
    if isinstance(deck_id, str) and names_a_device(deck_id):
        yield source.problem(
            source.mark_of_value(("id",)),
            f"deck id '{shorten(deck_id)}' names a device on Windows, where {deck_id}.apkg cannot "
            f"be written or checked out; choose another, such as '{deck_id}-deck'",
            "check.portable-name",
            "warning",
        )


def check_note_type_files(source: LoadedSource) -> Iterator[Problem]:
    """The files a source's note types are read from (note-type files, templates, CSS) must
    exist inside the source's folder and be readable."""
    yield from declared_note_types(source).problems


Check = Callable[[LoadedSource], Iterator[Problem]]
CHECKS: Sequence[Check] = (
    check_duplicate_card_ids,
    check_cloze_deletions,
    check_cloze_numbers_in_extra,
    check_answer_in_choices,
    check_empty_fields,
    check_media,
    check_field_text,
    check_note_types,
    check_portable_deck_id,
    check_note_type_files,
    check_declared_note_types,
    check_markdown_definitions,
)


def source_problems(source: LoadedSource) -> list[Problem]:
    """Every problem the checks find in one source."""
    if source.data is None:
        return []
    problems = [problem for check in CHECKS for problem in check(source)]
    if isinstance(source.data, dict) and source.data.get("exactly_as_written") is True:
        return [_as_anki_had_it(problem) for problem in problems]
    return problems


# What a deck kept exactly as Anki had it (``exactly_as_written``: ``deckkit import``) may hold
# because Anki holds and shows it so: a template naming no such field, a front showing nothing,
# a cloze note without a deletion. Refusing it would refuse the deck; a warning keeps it visible.
ANKI_HOLDS_IT = frozenset(
    {
        "check.unknown-template-field",
        "check.empty-front",
        "check.cloze-template",
        "check.cloze-without-deletion",
        "check.no-card",
        "check.template-syntax",
    }
)


def _as_anki_had_it(problem: Problem) -> Problem:
    if problem.code not in ANKI_HOLDS_IT or problem.severity != "error":
        return problem
    message = (
        f"{problem.message} (a warning here: this deck is kept exactly as Anki had it, and Anki "
        "holds and shows it so too)"
    )
    return replace(problem, message=message, severity="warning")


DeckIdAnchor = tuple[str, str, int, int]  # deck id, display path, line, column of the id


def duplicate_deck_ids(sources: Sequence[LoadedSource]) -> list[Problem]:
    """Deck ids seed every GUID: two files with one id would overwrite each other's notes."""
    anchors: list[DeckIdAnchor] = []
    for source in sources:
        data = source.data
        deck_id = data.get("id") if isinstance(data, dict) else None
        if isinstance(deck_id, str):
            mark = source.mark_of_value(("id",))
            anchors.append((deck_id, source.display, mark.line, mark.column))
    return duplicate_ids(anchors)


def duplicate_ids(anchors: Iterable[DeckIdAnchor]) -> list[Problem]:
    """A problem at every deck id already used by an earlier anchor."""
    first: dict[str, tuple[str, int]] = {}
    problems: list[Problem] = []
    for deck_id, display, line, column in anchors:
        if deck_id in first:
            other, other_line = first[deck_id]
            problems.append(
                Problem(
                    display,
                    line,
                    column,
                    f"deck id '{deck_id}' is already used by {other}:{other_line}; "
                    "deck ids must be unique",
                    "check.duplicate-deck-id",
                )
            )
        else:
            first[deck_id] = (display, line)
    return problems
