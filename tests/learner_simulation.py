"""A randomized simulation of an author and a learner over many builds (issue 14).

Each cycle the author does one ordinary thing to the sources (edit a card, add one, delete one,
restore a deleted one unchanged, rename a deck's display name, change a card's type, rename a
card id, change tags, build with a clock that is a day behind), builds with deckkit, and the
learner imports the build into their Anki collection with Anki desktop's out-of-the-box options,
studies a few cards and sometimes edits a note. A build deckkit refuses is the author's cue to
take the way through: the simulated author undoes the action (or sets the clock right).

After every import the invariants are checked against what the author and the learner did:

- no note is duplicated (each card carries a marker that stays with it through id renames);
- no note type is forked ("deckkit Basic+") and no note is logged as conflicting;
- no review is lost (the review log only grows, no reviewed card disappears);
- every author change that was built reaches the learner, unless the learner edited that note
  after the change was built (then the learner's text stays): a learner's edit of a note the
  author has not changed since is never overwritten.

Used by tests/test_learner_simulation.py (a few seeds, a few cycles) and bench/ (long runs).
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from anki.collection import Collection

from conftest import default_import_options
from deckkit import ClockBehind, build
from deckkit.model import note_guid

START = 1_790_000_000  # the first build's time; each cycle is an hour later
HOUR = 3600
ACTIONS = (
    "edit",
    "edit",
    "add",
    "delete",
    "restore",
    "rename_deck",
    "retype",
    "rename_card",
    "retag",
    "clock_behind",
)


@dataclass
class CardState:
    """One card as the author has it: its marker stays through renames of its id."""

    marker: str
    card_id: str
    deck_id: str
    type: str = "basic"
    front: str = ""
    back: str = ""
    tags: tuple[str, ...] = ()


@dataclass
class Shipped:
    """What the learner should have for one note (by GUID): the author's text and its time."""

    fields_text: tuple[str, ...]
    changed_at: int  # the build time at which this text first shipped
    learner_text: str | None = None  # the first field after the learner's edit
    learner_at: int = 0
    tags: tuple[str, ...] = ()


@dataclass
class Report:
    """What a run did and saw."""

    cycles: int = 0
    actions: dict[str, int] = field(default_factory=dict)
    refusals: dict[str, int] = field(default_factory=dict)  # action → builds refused
    violations: list[str] = field(default_factory=list)


class Simulation:
    """One author, one learner, one random seed."""

    def __init__(self, folder: Path, seed: int) -> None:
        self.folder = folder
        self.random = random.Random(seed)
        self.decks = {"alpha": "Simulation::Alpha", "beta": "Simulation::Beta"}
        self.cards: dict[str, CardState] = {}  # by marker
        self.removed: dict[str, CardState] = {}  # by marker: deleted cards the author may restore
        self.shipped: dict[str, Shipped] = {}  # by GUID
        self.next_marker = 0
        self.now = START
        self.report = Report()
        self._seen: set[str] = set()
        distinct = sorted(set(ACTIONS))
        self._untried = self.random.sample(distinct, len(distinct))
        (folder / "collection").mkdir(parents=True)
        self.col = Collection(str(folder / "collection" / "collection.anki2"))
        self.reviews = 0
        for _ in range(6):
            self._new_card()

    # --- the author ---------------------------------------------------------------------

    def _new_card(self) -> CardState:
        marker = f"m{self.next_marker}"
        self.next_marker += 1
        deck_id = self.random.choice(sorted(self.decks))
        card = CardState(marker, f"card-{marker}", deck_id, front=f"[{marker}] question")
        card.back = "answer 0"
        self.cards[marker] = card
        return card

    def _act(self, action: str) -> Any:
        """Do one action; returns what undoes it (None: nothing to undo)."""
        live = sorted(self.cards)
        pick = self.cards[self.random.choice(live)] if live else None
        if action == "edit" and pick:
            old = pick.back
            pick.back = f"answer {self.random.randrange(10**6)}"
            return lambda: setattr(pick, "back", old)
        if action == "add":
            card = self._new_card()
            return lambda: self.cards.pop(card.marker)
        if action == "delete" and pick and len(live) > 2:
            self.removed[pick.marker] = self.cards.pop(pick.marker)
            return lambda: self.cards.setdefault(pick.marker, self.removed.pop(pick.marker))
        if action == "restore" and self.removed:
            marker = self.random.choice(sorted(self.removed))
            self.cards[marker] = self.removed.pop(marker)
            return lambda: self.removed.setdefault(marker, self.cards.pop(marker))
        if action == "rename_deck":
            deck_id = self.random.choice(sorted(self.decks))
            old_name = self.decks[deck_id]
            self.decks[deck_id] = f"{old_name.split('~')[0]}~{self.random.randrange(1000)}"
            return lambda: self.decks.__setitem__(deck_id, old_name)
        if action == "retype" and pick:
            old_type = pick.type
            pick.type = "reversed" if pick.type == "basic" else "basic"
            return lambda: setattr(pick, "type", old_type)
        if action == "rename_card" and pick:
            old_id = pick.card_id
            pick.card_id = f"{old_id}-r{self.random.randrange(1000)}"
            return lambda: setattr(pick, "card_id", old_id)
        if action == "retag" and pick:
            old_tags = pick.tags
            pick.tags = (f"t{self.random.randrange(5)}",)
            return lambda: setattr(pick, "tags", old_tags)
        return None

    def _write_sources(self) -> None:
        sources = self.folder / "sources"
        if sources.exists():
            shutil.rmtree(sources)
        sources.mkdir()
        for deck_id, name in self.decks.items():
            cards = [c for c in self.cards.values() if c.deck_id == deck_id]
            if not cards:
                continue
            data = {
                "deck": name,
                "id": deck_id,
                "cards": [
                    {
                        "id": c.card_id,
                        "type": c.type,
                        "front": c.front,
                        "back": c.back,
                        **({"tags": list(c.tags)} if c.tags else {}),
                    }
                    for c in sorted(cards, key=lambda c: c.marker)
                ],
            }
            (sources / f"{deck_id}.yaml").write_text(yaml.safe_dump(data), "utf-8")

    def _build(self, when: int) -> bool:
        """Build at ``when``; False when deckkit refused the build."""
        self._write_sources()
        try:
            result = build(
                [self.folder / "sources"],
                self.folder / "build",
                formats=["apkg"],
                lockfile=self.folder / "deckkit.lock",
                clock=lambda: when,
                jobs=1,
            )
        except ClockBehind:
            return False
        return result.ok

    # --- one cycle -------------------------------------------------------------------------

    def cycle(self) -> None:
        self.report.cycles += 1
        self.now += HOUR
        # Every action once, in a random order, then at random: a short run tries them all.
        action = self._untried.pop() if self._untried else self.random.choice(ACTIONS)
        self.report.actions[action] = self.report.actions.get(action, 0) + 1
        undo = None if action == "clock_behind" else self._act(action)
        when = self.now - 24 * HOUR if action == "clock_behind" else self.now
        if not self._build(when):
            self.report.refusals[action] = self.report.refusals.get(action, 0) + 1
            if undo is not None:
                undo()  # the way through: undo the action
            if not self._build(self.now):
                self._violation("a refused action undone still does not build")
                return
        self._ship()
        self._learner_imports()
        self._learner_studies_and_edits()

    def _ship(self) -> None:
        """Record what this build ships: each live card's note as the learner should see it."""
        for card in self.cards.values():
            guid = note_guid(card.deck_id, card.card_id)
            text = (card.front, card.back)
            known = self.shipped.get(guid)
            # Anki stores tags with the note: a change of tags is a change of the note, and
            # the incoming note replaces the learner's (fields included), as any author change.
            if known is None or (known.fields_text, known.tags) != (text, card.tags):
                learner = known.learner_text if known else None
                learner_at = known.learner_at if known else 0
                self.shipped[guid] = Shipped(text, self.now, learner, learner_at, card.tags)

    # --- the learner -------------------------------------------------------------------------

    def _learner_imports(self) -> None:
        before = self.col.db.scalar("select count() from revlog")
        for package in sorted((self.folder / "build").glob("*.apkg")):
            from anki.import_export_pb2 import ImportAnkiPackageRequest

            request = ImportAnkiPackageRequest(
                package_path=str(package), options=default_import_options(self.col)
            )
            log = self.col.import_anki_package(request).log
            self.col.models._clear_cache()
            if log.conflicting:
                self._violation(f"{len(log.conflicting)} conflicting note(s) in {package.name}")
        self._check(before)

    def _learner_studies_and_edits(self) -> None:
        card_ids = list(self.col.find_cards(""))
        for card_id in self.random.sample(card_ids, min(2, len(card_ids))):
            card = self.col.get_card(card_id)
            card.start_timer()
            states = self.col._backend.get_scheduling_states(card.id)
            from anki.scheduler.v3 import CardAnswer

            answer = self.col.sched.build_answer(card=card, states=states, rating=CardAnswer.GOOD)
            self.col.sched.answer_card(answer)
        self.reviews = self.col.db.scalar("select count() from revlog")
        note_ids = list(self.col.find_notes(""))
        if note_ids and self.random.random() < 0.5:
            note = self.col.get_note(self.random.choice(note_ids))
            note.fields[0] = note.fields[0] + " (mine)"
            self.col.update_note(note)
            edited_at = self.now + HOUR // 2  # the learner's clock, half an hour after the build
            self.col.db.execute("update notes set mod = ? where id = ?", edited_at, note.id)
            shipped = self.shipped.get(note.guid)
            if shipped is not None:
                shipped.learner_text, shipped.learner_at = note.fields[0], edited_at

    # --- the invariants ----------------------------------------------------------------------

    def _check(self, reviews_before: int) -> None:
        if self.col.db.scalar("select count() from revlog") < reviews_before:
            self._violation("reviews lost")
        forked = [n.name for n in self.col.models.all_names_and_ids() if n.name.endswith("+")]
        if forked:
            self._violation(f"forked note types {forked}")
        markers: dict[str, int] = {}
        for note_id in self.col.find_notes(""):
            note = self.col.get_note(note_id)
            marker = note.fields[0].split("]")[0]
            markers[marker] = markers.get(marker, 0) + 1
            shipped = self.shipped.get(note.guid)
            if shipped is None:
                continue
            learner_wins = shipped.learner_text is not None and shipped.learner_at > (
                shipped.changed_at
            )
            expected = shipped.learner_text if learner_wins else shipped.fields_text[0]
            if note.fields[0] != expected or (
                not learner_wins and note.fields[1] != shipped.fields_text[1]
            ):
                self._violation(
                    f"note {marker}]: has {note.fields[:2]}, expected {expected!r} / "
                    f"{shipped.fields_text[1]!r} (learner {'wins' if learner_wins else 'loses'})"
                )
        duplicated = sorted(m for m, count in markers.items() if count > 1)
        if duplicated:
            self._violation(f"duplicated notes {duplicated}")

    def _violation(self, what: str) -> None:
        # Reported once, at the cycle it first shows: a duplicate stays in the collection.
        if what not in self._seen:
            self._seen.add(what)
            self.report.violations.append(f"cycle {self.report.cycles}: {what}")

    def close(self) -> None:
        self.col.close()


def simulate(folder: Path, seed: int, cycles: int) -> Report:
    """Run one simulation; the report lists every invariant broken, by cycle."""
    simulation = Simulation(folder, seed)
    try:
        assert simulation._build(simulation.now)
        simulation._ship()
        simulation._learner_imports()
        for _ in range(cycles):
            simulation.cycle()
    finally:
        simulation.close()
    return simulation.report
