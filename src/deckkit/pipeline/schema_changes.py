"""Changes of a declared note type's fields or templates between builds, and what Anki's importer
does with them; the build refuses those that would not reach learners in place.

Anki (``rslib/src/import_export/package/apkg/import/notes.rs``) finds the learner's note type by
the package's note type id. With its default import options it updates it in place only when the
field names and the template names are the same, in the same order (``equal_schema``); otherwise
it adds a copy named "<name>+" and skips every note of the learner's note type as conflicting, on
that import and every later one. With "Merge note types" ticked it adds the package's new fields
and templates to the learner's note type, never removes one and keeps the learner's order, and
updates the notes in place (though adding a field marks all of them modified first, so that the
package's older notes are then skipped). So only fields or templates appended after the old ones
come out the same on both sides after one such import: those may be accepted; any other change is
refused, with the ways through.
``tests/test_note_type_updates.py`` proves each case with the ``anki`` package.

deckkit.lock remembers each declared note type's schema (with its field and template names, see
:func:`deckkit.lockfile.note_type_entry`), so the build compares what the sources declare now
with what learners got from the last build.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from deckkit.lockfile import Entry, Lock
from deckkit.model import Deck
from deckkit.notetypes import NoteType, original_note_type, schema_hash
from deckkit.problems import Problem, display_path, shorten
from deckkit.sources.declared import DeclaredNoteType, declared_note_types
from deckkit.sources.loader import LoadedSource, load_source

ACCEPT_OPTION = "--accept-note-type-change"
MERGE_OPTION = '"Merge note types"'  # the import option's name in Anki (ftl/core/importing.ftl)


@dataclass(frozen=True)
class SchemaChange:
    """A declared note type whose field or template names (or kind) differ from the last build's.

    The old names are None when the lockfile holds only the old schema's hash.
    """

    name: str
    id: int
    fields: tuple[str, ...]
    templates: tuple[str, ...]
    cloze: bool
    old_fields: tuple[str, ...] | None
    old_templates: tuple[str, ...] | None
    kind_changed: bool  # standard to cloze or back (known only with the old names)

    @property
    def appends_only(self) -> bool:
        """Whether it only adds fields or templates after the old ones: what one import with
        "Merge note types" carries to a learner's note type in place, after which it is the
        package's again and the default options update it as before."""
        if self.old_fields is None or self.old_templates is None or self.kind_changed:
            return False
        return (
            self.fields[: len(self.old_fields)] == self.old_fields
            and self.templates[: len(self.old_templates)] == self.old_templates
        )

    @property
    def inserts_only(self) -> bool:
        """Whether it only adds fields or templates, some of them before old ones: a change that
        would be carried if the new ones came after the old ones instead."""
        if self.old_fields is None or self.old_templates is None or self.kind_changed:
            return False
        return not self.appends_only and all(
            [name for name in new if name in old] == list(old)
            for old, new in ((self.old_fields, self.fields), (self.old_templates, self.templates))
        )

    @property
    def changed_key(self) -> str:
        """The key of the declaration that changed: where a problem about it points."""
        if self.old_fields is not None and self.old_fields != self.fields:
            return "fields"
        if self.old_templates is not None and self.old_templates != self.templates:
            return "templates"
        return "cloze" if self.kind_changed else "fields"

    def description(self) -> str:
        """What changed, in a few words: "field 'Example' added", "templates reordered"..."""
        if self.old_fields is None or self.old_templates is None:
            return (
                "its fields or templates changed (the lockfile does not record their old names); "
                f"fields now {_names(self.fields)}, templates now {_names(self.templates)}"
            )
        parts = _list_changes("field", self.old_fields, self.fields)
        parts += _list_changes("template", self.old_templates, self.templates)
        if self.kind_changed:
            parts.append("now a cloze note type" if self.cloze else "no longer a cloze note type")
        return ", ".join(parts)


def schema_change(entry: Entry | None, note_type: NoteType) -> SchemaChange | None:
    """How a note type's schema differs from its lock entry's, or None (same, or not known)."""
    if entry is None or entry.schema is None or entry.schema == note_type.schema():
        return None
    kind_changed = False
    if entry.fields is not None and entry.templates is not None:
        kind_changed = entry.schema != schema_hash(
            entry.fields, entry.templates, cloze=note_type.is_cloze
        )
    return SchemaChange(
        name=note_type.name,
        id=note_type.id,
        fields=note_type.fields,
        templates=note_type.template_names,
        cloze=note_type.is_cloze,
        old_fields=entry.fields,
        old_templates=entry.templates,
        kind_changed=kind_changed,
    )


def _names(names: Sequence[str]) -> str:
    return ", ".join(f"'{shorten(name, 60)}'" for name in names)


def _list_changes(what: str, old: Sequence[str], new: Sequence[str]) -> list[str]:
    """A list's changes: names renamed in place, added, removed, and the rest reordered."""
    if old == new:
        return []
    added = [name for name in new if name not in old]
    removed = [name for name in old if name not in new]
    parts: list[str] = []
    if (
        added
        and len(added) == len(removed)
        and len(old) == len(new)
        and all(new.index(a) == old.index(r) for a, r in zip(added, removed, strict=True))
    ):
        parts += [
            f"{what} '{shorten(r, 60)}' renamed to '{shorten(a, 60)}'"
            for r, a in zip(removed, added, strict=True)
        ]
    else:
        appended = [name for name in added if _old_after(name, old, new) is None]
        if appended:
            parts.append(f"{what}{'s' if len(appended) > 1 else ''} {_names(appended)} added")
        parts += [
            f"{what} '{shorten(name, 60)}' inserted before '{shorten(after, 60)}'"
            for name in added
            if (after := _old_after(name, old, new)) is not None
        ]
        if removed:
            parts.append(f"{what}{'s' if len(removed) > 1 else ''} {_names(removed)} removed")
    if [n for n in old if n in new] != [n for n in new if n in old]:
        parts.append(f"{what}s reordered")
    return parts


def _old_after(name: str, old: Sequence[str], new: Sequence[str]) -> str | None:
    """The first old name that follows a new one in the new list, or None."""
    return next((other for other in new[new.index(name) + 1 :] if other in old), None)


def refusal(change: SchemaChange, *, accepted: bool, lockfile: str) -> str:
    """Why the build refuses a change, what Anki would do to learners, and the ways through."""
    name = f"'{shorten(change.name, 60)}'"
    said = (
        f"note type {name} (id {change.id}) changed since the last build ({lockfile}): "
        f"{change.description()}. Imported with Anki's default options, the rebuilt deck would "
        f"add a second note type '{shorten(change.name, 60)}+' and skip every note of {name} as "
        "conflicting, now and on every later import. Ways through: undo the change; or give the "
        f"note type a new id and name (learners keep their {name} notes and reviews, and Anki "
        "skips the rebuilt notes until each learner moves them to the new note type once with "
        "Browse > Notes > Change Note Type, which keeps reviews; with new card ids as well, "
        "learners get new notes beside the old ones: duplicates, without reviews)"
    )
    if change.appends_only:
        return (
            f"{said}; or build with {ACCEPT_OPTION} {_shell_word(change.name)} and have every "
            f"learner import the rebuilt deck once with {MERGE_OPTION} ticked, which adds the new "
            f"{_appended(change)} to their {name} in place, keeping notes and reviews (the "
            "build then says what else learners should know)"
        )
    if change.inserts_only:
        said += (
            "; or add the new ones after the existing ones instead, which "
            f"{ACCEPT_OPTION} can carry"
        )
    if accepted:
        return (
            f"{said} ({ACCEPT_OPTION} carries only fields and templates added after the existing "
            f"ones: Anki's {MERGE_OPTION} keeps removed fields and templates and the learner's "
            "order, so later imports would conflict again)"
        )
    return said


def _appended(change: SchemaChange) -> str:
    fields = len(change.fields) - len(change.old_fields or ())
    templates = len(change.templates) - len(change.old_templates or ())
    parts = [f"field{'s' if fields > 1 else ''}" if fields else ""]
    parts.append(f"template{'s' if templates > 1 else ''}" if templates else "")
    return " and ".join(part for part in parts if part)


def _shell_word(name: str) -> str:
    """A note type's name as one word of a shell command."""
    plain = name.replace("-", "").replace("_", "").replace(".", "")
    return name if plain.isalnum() and plain.isascii() else "'" + name.replace("'", "'\\''") + "'"


@dataclass(frozen=True)
class AcceptedChange:
    """A change of a note type's fields or templates that the build was told to carry, and the
    packages that carry it."""

    change: SchemaChange
    packages: tuple[str, ...]  # the .apkg files (or deck ids) of the decks using the note type

    def instructions(self) -> str:
        """What every learner who has the note type must do, once, and what they get."""
        name = f"'{shorten(self.change.name, 60)}'"
        new_cards = len(self.change.templates) > len(self.change.old_templates or ())
        said = (
            f"note type {name}: {self.change.description()} (accepted). Every learner who "
            f"already has it must import {' or '.join(self.packages)} once with {MERGE_OPTION} "
            f"ticked among Anki's import options: Anki adds the new {_appended(self.change)} to "
            f"their {name} in place, keeping every note, card and review"
            + (" (and makes the new cards)" if new_cards else "")
            + ", and asks for a one-way sync; later imports need no option. Imported without "
            f"it, Anki adds an empty '{shorten(self.change.name, 60)}+' and skips these notes: "
            f"importing again with {MERGE_OPTION} ticked folds it back in."
        )
        if len(self.change.fields) > len(self.change.old_fields or ()):
            # Anki marks every note of the note type modified when it adds a field, so the
            # package's notes are older than the learner's by then (UpdateCondition::IfNewer).
            said += (
                f" Adding a field marks every note of {name} modified, so that import keeps "
                "the learner's text of those notes: the new field stays empty, and other changes "
                "to them in this build wait for a later build that changes them again; a learner "
                'who wants them now sets "Update notes" to "Always" too, which also replaces '
                "their own edits of the deck's notes with the deck's text."
            )
        return said + " New learners need do nothing."


def check_schema_changes(
    source: LoadedSource, deck: Deck, lock: Lock, accepted: Collection[str], *, lockfile: str
) -> tuple[list[Problem], list[SchemaChange]]:
    """The deck's declared note types whose schema changed since the lock: a problem at each
    declaration the build refuses, and the changes it carries (``accepted`` by name)."""
    problems: list[Problem] = []
    carried: list[SchemaChange] = []
    for anki in deck.note_types:
        change = schema_change(lock.note_types.get(str(anki.id)), original_note_type(anki))
        if change is None:
            continue
        if change.name in accepted and change.appends_only:
            carried.append(change)
            continue
        message = refusal(change, accepted=change.name in accepted, lockfile=lockfile)
        problems.append(_at_declaration(source, change, message))
    return problems, carried


def _at_declaration(source: LoadedSource, change: SchemaChange, message: str) -> Problem:
    """A problem at the declaration of a changed note type: the deck's or its note-type file's."""
    declared = next(
        (d for d in declared_note_types(source).note_types if d.name == change.name), None
    )
    if declared is None:  # cannot happen: the deck's note types are its declarations
        return source.problem(source.mark_of_value(("note_types",)), message, _CODE)
    return _placed(declared, change.changed_key, message)


def _placed(declared: DeclaredNoteType, key: str, message: str) -> Problem:
    where = declared.source
    if not where.all_positions:  # a deck read fast: its values' positions were not kept
        where = load_source(where.path)
    mark = where.mark_of_value((*declared.path, key))
    return Problem(where.display, mark.line, mark.column, message, _CODE)


_CODE = "check.note-type-schema-change"


def accepted_changes(
    changes: Sequence[tuple[str, SchemaChange]], output_dir: Path, formats: Collection[str]
) -> tuple[AcceptedChange, ...]:
    """The changes a build carried, each once, with the packages (by deck id) that carry it."""
    packages: dict[int, list[str]] = {}
    by_id: dict[int, SchemaChange] = {}
    for deck_id, change in changes:
        by_id.setdefault(change.id, change)
        package = output_dir / f"{deck_id}.apkg"
        shown = display_path(package) if "apkg" in formats else f"the .apkg of deck {deck_id}"
        packages.setdefault(change.id, []).append(shown)
    return tuple(
        AcceptedChange(by_id[key], tuple(sorted(set(packages[key])))) for key in sorted(by_id)
    )
