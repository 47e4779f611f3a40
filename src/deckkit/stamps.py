"""Modification times Anki compares on import: Anki updates a note or note type only when the
incoming one is newer, so these times decide what a re-import changes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Stamps:
    """Modification times (seconds since the epoch) for notes by GUID and note types by id."""

    notes: dict[str, int] = field(default_factory=dict)
    note_types: dict[int, int] = field(default_factory=dict)
    default: int = 0

    def note(self, guid: str) -> int:
        """The modification time of the note with this GUID."""
        return self.notes.get(guid, self.default)

    def note_type(self, note_type_id: int) -> int:
        """The modification time of the note type with this id."""
        return self.note_types.get(note_type_id, self.default)
