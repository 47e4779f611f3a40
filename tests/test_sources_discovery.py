"""Which files are card sources, and references that stay as written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deckkit import UsageError, build, validate

# Reaches inside: discovery is the stage under test; the model gives the decks' ids.
from deckkit.model import deck_from_source
from deckkit.sources.discovery import discover_sources

FIXTURES = Path(__file__).parent / "fixtures"


def test_hidden_files_and_folders_are_not_sources(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "good" / "bom-crlf.yaml", tmp_path / "deck.yaml")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "junk.yaml").write_text("not: a deck\n")
    (tmp_path / ".pre-commit-config.yaml").write_text("repos: []\n")
    assert discover_sources([tmp_path]) == [tmp_path / "deck.yaml"]


def test_a_folder_without_sources_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"no \*.yaml or \*.yml card sources"):
        validate([tmp_path])


def test_remote_media_stay_as_written_and_are_not_packed(tmp_path: Path) -> None:
    result = validate([FIXTURES / "remote"])
    assert result.ok, result.problems
    deck = deck_from_source(result.sources[0])
    (card,) = deck.cards
    assert card.content.front == '<img src="https://example.org/a.png?x=1&amp;y=2">'  # type: ignore[union-attr]
    assert card.content.back == "[sound:https://example.org/bell.mp3]"  # type: ignore[union-attr]
    assert deck.media == ()
    assert build([FIXTURES / "remote"], tmp_path / "out").ok


def test_a_card_with_a_guid_keeps_it_and_others_derive_theirs() -> None:
    from deckkit.model import note_guid

    result = validate([FIXTURES / "guid"])
    assert result.ok, result.problems
    kept, derived = deck_from_source(result.sources[0]).cards
    assert kept.guid == "f#Zx9(kL2!"
    assert derived.guid == note_guid("imported", "derived-guid")


@pytest.mark.parametrize(
    ("deck_id", "card_id"),
    [("fine-tuning-domains", "what-is-fine-tuning"), ("a", "b"), ("x.y_z", "0"), ("d", "é 😀")],
)
def test_note_guids_are_genankis_guid_for_the_deck_and_card_ids(deck_id: str, card_id: str) -> None:
    import genanki

    from deckkit.model import note_guid

    assert note_guid(deck_id, card_id) == genanki.guid_for(deck_id, card_id)


def test_a_remote_media_url_is_a_warning_that_strict_makes_an_error() -> None:
    lenient = validate([FIXTURES / "remote"])
    assert lenient.ok
    assert {(p.code, p.severity) for p in lenient.problems} == {("check.media-url", "warning")}
    assert len(lenient.problems) == 2  # the image and the sound
    strict = validate([FIXTURES / "remote"], strict=True)
    assert not strict.ok
    assert {p.severity for p in strict.problems} == {"error"}
