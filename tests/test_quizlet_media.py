"""Cards Quizlet cannot carry whole (issue 15): an image, a sound or a video in a field the Quizlet
pair is made from gives a build warning at the card (`check.quizlet-media`), saying Quizlet gets
the card without it. The rule lives beside the pair (deckkit.exporters.quizlet.media_lost)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from conftest import FIXTURES
from deckkit import build
from deckkit.cardtypes import Basic, Cloze
from deckkit.cli import main

# Reaches inside: the rule itself, on cards made in code for what the fixture does not hold.
from deckkit.exporters.quizlet import media_lost
from deckkit.model import Card
from deckkit.problems import Problem, display_path

DECK = FIXTURES / "quizlet-media" / "quizlet-media.yaml"


def expected_warnings() -> list[Problem]:
    path = display_path(DECK)
    tail = ": its import takes text only; add {} in Quizlet's editor after importing"
    return [
        Problem(
            path,
            6,
            5,
            "Quizlet gets card 'picture' without an image in 'back'" + tail.format("it"),
            "check.quizlet-media",
            "warning",
        ),
        Problem(
            path,
            11,
            5,
            "Quizlet gets card 'listen' without a sound in 'front'" + tail.format("it"),
            "check.quizlet-media",
            "warning",
        ),
        Problem(
            path,
            14,
            5,
            "Quizlet gets card 'both' without an image and a sound in 'front'"
            + tail.format("them"),
            "check.quizlet-media",
            "warning",
        ),
    ]


def test_a_build_warns_at_each_card_quizlet_gets_without_its_media(tmp_path: Path) -> None:
    result = build([DECK], tmp_path / "out", lockfile=tmp_path / "deckkit.lock")
    assert result.ok
    assert list(result.problems) == expected_warnings()
    # The cards are there, without what Quizlet cannot show: an extra's image loses nothing.
    lines = (tmp_path / "out" / "quizlet-media.quizlet.txt").read_text("utf-8").splitlines()
    assert lines == [
        "What does this diagram show?\tA model adapted to a domain.",
        "Which note is this?\tA5",
        "\tfine-tuning",
        "_____ adapts a model\tFine-tuning",
        "Plain\ttext",
    ]


def test_no_warning_when_quizlet_is_not_built(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = build([DECK], out, formats=["apkg", "csv"], lockfile=tmp_path / "deckkit.lock")
    assert result.ok
    assert result.problems == ()


def test_an_unchanged_deck_repeats_the_warning_on_the_next_build(tmp_path: Path) -> None:
    lock = tmp_path / "deckkit.lock"
    assert build([DECK], tmp_path / "out", lockfile=lock).ok
    again = build([DECK], tmp_path / "out", lockfile=lock)
    assert again.written == ()
    assert list(again.problems) == expected_warnings()


def test_the_cli_prints_the_warnings_and_strict_still_builds(tmp_path: Path) -> None:
    """Nothing is wrong in the source: --strict, which refuses a source's warnings, does not
    refuse a deck with pictures for Quizlet."""
    out = tmp_path / "out"
    args = ["build", str(DECK), "-o", str(out), "--lockfile", str(tmp_path / "deckkit.lock")]
    result = CliRunner().invoke(main, [*args, "--strict"])
    assert result.exit_code == 0, result.output
    printed = [line for line in result.output.splitlines() if "[check.quizlet-media]" in line]
    assert printed == [p.as_text() for p in expected_warnings()]
    assert (out / "quizlet-media.quizlet.txt").is_file()


def card(content: Basic | Cloze) -> Card:
    return Card(id="c", type="basic", guid="g", content=content, tags=(), level=None)


def test_videos_and_inline_images_count_and_text_loses_nothing() -> None:
    assert media_lost(card(Basic("<video src='clip.webm'></video>", "[sound:clip.mp4]"))) == {
        "front": ["a video"],
        "back": ["a video"],
    }
    assert media_lost(card(Basic('<svg viewBox="0 0 1 1"></svg>', "[sound:bell.ogg]"))) == {
        "front": ["an image"],
        "back": ["a sound"],
    }
    # Escaped text and a link are text; a cloze's extra is not on Quizlet at all.
    assert media_lost(card(Basic("&lt;img src=x.png&gt;", "<a href='x.png'>x</a>"))) == {}
    assert media_lost(card(Cloze("{{c1::a}}", "<img src=x.png>"))) == {}
