"""`deckkit push` and `deckkit build --push` against an AnkiConnect-protocol server over a real
`anki` collection (tests/anki_connect_server.py): Anki's own importer does the import, a card
answered with Anki's scheduler between pushes keeps its reviews, and deckkit talks to the address
given and to nothing else."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from anki.collection import Collection
from anki.scheduler.v3 import CardAnswer
from click.testing import CliRunner, Result

from anki_connect_server import AnkiConnectServer, LocalServer
from deckkit.cli import main
from deckkit.pushing import deck_search

PUSH = Path(__file__).parent / "fixtures" / "push"
REPO = Path(__file__).resolve().parent.parent
NOT_RUNNING = (
    "error: Anki is not running at {url} (nothing answers there): start Anki with the "
    "AnkiConnect add-on (Tools > Add-ons > Get Add-ons..., code 2055492159), or give "
    "AnkiConnect's address with --anki-connect-url"
)
# Variables that would send urllib (or requests) through a proxy: deckkit must ignore them.
PROXIES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")
NO_ANKI_CONNECT_VARIABLES = {
    "DECKKIT_ANKI_CONNECT_URL": None,
    "ANKI_CONNECT_URL": None,
    "DECKKIT_ANKI_CONNECT_KEY": None,
    "ANKI_CONNECT_API_KEY": None,
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder, the working one, whose sources are first/capitals.yaml."""
    (tmp_path / "project" / "sources").mkdir(parents=True)
    shutil.copy(PUSH / "first" / "capitals.yaml", tmp_path / "project" / "sources")
    monkeypatch.chdir(tmp_path / "project")
    return tmp_path / "project"


@pytest.fixture
def anki_connect(collection: Collection) -> Iterator[AnkiConnectServer]:
    with AnkiConnectServer(collection) as server:
        yield server


def invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
    """Run deckkit; the result is an exit status and text, never a traceback."""
    variables = {**NO_ANKI_CONNECT_VARIABLES, **(env or {})}
    result = CliRunner().invoke(main, list(args), env=variables)
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


def push_lines(result: Result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("pushed ")]


def answer_good(col: Collection, card_id: int) -> None:
    """A learner answers the card Good in Anki (its scheduler, as the reviewer does)."""
    card = col.get_card(card_id)  # type: ignore[arg-type]
    card.start_timer()
    states = col._backend.get_scheduling_states(card.id)
    col.sched.answer_card(col.sched.build_answer(card=card, states=states, rating=CardAnswer.GOOD))


def note_of(col: Collection, front: str) -> Any:
    (note_id,) = col.find_notes(f'"Front:{front}"')
    return col.get_note(note_id)


@pytest.mark.parametrize("importer", ["add-on", "desktop"])
def test_push_edit_push_updates_the_note_in_place_with_reviews_kept(
    project: Path, collection: Collection, importer: str
) -> None:
    with AnkiConnectServer(collection, importer=importer) as server:
        first = invoke("push", "--anki-connect-url", server.url)
        assert first.exit_code == 0, first.output
        assert push_lines(first) == [
            "pushed build/push-capitals.apkg (Push Tests::Capitals): "
            "4 new, 0 updated, 0 unchanged notes",
            f"pushed 1 deck to Anki at {server.url}: 4 new, 0 updated, 0 unchanged notes",
        ]
        australia = note_of(collection, "Capital of Australia?")
        (card_id,) = australia.card_ids()
        answer_good(collection, card_id)
        studied = collection.get_card(card_id)

        shutil.copy(PUSH / "edited" / "capitals.yaml", project / "sources")
        second = invoke("push", "--anki-connect-url", server.url)
        assert second.exit_code == 0, second.output
        assert push_lines(second)[0] == (
            "pushed build/push-capitals.apkg (Push Tests::Capitals): "
            "0 new, 1 updated, 3 unchanged notes"
        )
        updated = note_of(collection, "Capital of Australia?")
        assert updated.id == australia.id
        assert updated["Back"] == "Canberra (not Sydney)"
        assert updated.card_ids() == [card_id]
        kept = collection.get_card(card_id)
        assert (kept.queue, kept.type, kept.due, kept.reps) == (
            studied.queue,
            studied.type,
            studied.due,
            studied.reps,
        )
        assert collection.db.scalar("select count() from revlog where cid = ?", card_id) == 1
        assert collection.note_count() == 4

        third = invoke("push", "--anki-connect-url", server.url)
        assert push_lines(third)[-1] == (
            f"pushed 1 deck to Anki at {server.url}: 0 new, 0 updated, 4 unchanged notes"
        )


def test_build_push_builds_then_pushes(project: Path, anki_connect: AnkiConnectServer) -> None:
    result = invoke("build", "--format", "csv", "--push", "--anki-connect-url", anki_connect.url)
    assert result.exit_code == 0, result.output
    # AnkiConnect imports the .apkg, which the build then makes besides the formats asked for.
    assert sorted(p.name for p in (project / "build").glob("push-*")) == [
        "push-capitals.apkg",
        "push-capitals.csv",
    ]
    assert push_lines(result)[-1].endswith(": 4 new, 0 updated, 0 unchanged notes")
    assert anki_connect.collection.note_count() == 4


def test_import_package_is_given_the_packages_absolute_path(
    project: Path, anki_connect: AnkiConnectServer
) -> None:
    invoke("push", "--anki-connect-url", anki_connect.url)
    imports = [r.body for r in anki_connect.requests if r.body["action"] == "importPackage"]
    (path,) = [body["params"]["path"] for body in imports]
    # The add-on hands the path to Anki's importer as it is; Anki's working folder is not ours.
    assert path == str(project / "build" / "push-capitals.apkg")
    assert Path(path).is_absolute()


def test_every_request_is_anki_connects_envelope_of_version_6(
    project: Path, anki_connect: AnkiConnectServer
) -> None:
    invoke("push", "--anki-connect-url", anki_connect.url)
    actions = [r.body["action"] for r in anki_connect.requests]
    assert actions[0] == "version"
    assert "importPackage" in actions
    for request in anki_connect.requests:
        assert request.method == "POST"
        assert request.origin is None  # the add-on lets in a request without an Origin
        # No key unless one is given: the add-on compares it with its apiKey, null by default.
        assert set(request.body) == {"action", "version", "params"}
        assert request.body["version"] == 6


def test_anki_not_running_is_one_line_and_a_failure(project: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    ended = subprocess.run(
        [sys.executable, "-m", "deckkit", "push", "-q", "--anki-connect-url", url],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert ended.returncode == 1
    assert ended.stderr.splitlines()[-1] == NOT_RUNNING.format(url=url)
    assert "Traceback" not in ended.stderr


def test_a_wrong_api_key_is_refused_with_what_to_do(project: Path, collection: Collection) -> None:
    with AnkiConnectServer(collection, api_key="right") as server:
        wrong = invoke("push", "-q", "--anki-connect-url", server.url, "--api-key", "wrong")
        missing = invoke("push", "-q", "--anki-connect-url", server.url)
    advice = (
        "(valid api key must be provided): pass the apiKey of the add-on's config (Tools > "
        "Add-ons > AnkiConnect > Config) with --api-key or DECKKIT_ANKI_CONNECT_KEY"
    )
    assert wrong.exit_code == missing.exit_code == 1
    assert wrong.stderr.splitlines()[-1] == (
        f"error: AnkiConnect at {server.url} refused the API key given {advice}"
    )
    assert missing.stderr.splitlines()[-1] == (
        f"error: AnkiConnect at {server.url} wants an API key {advice}"
    )
    assert collection.note_count() == 0


def test_the_key_and_address_come_from_the_environment(
    project: Path, collection: Collection
) -> None:
    with AnkiConnectServer(collection, api_key="s3cret") as server:
        result = invoke(
            "push",
            env={"DECKKIT_ANKI_CONNECT_URL": server.url, "DECKKIT_ANKI_CONNECT_KEY": "s3cret"},
        )
    assert result.exit_code == 0, result.output
    assert push_lines(result)[-1].startswith(f"pushed 1 deck to Anki at {server.url}: 4 new")
    assert {r.body["key"] for r in server.requests} == {"s3cret"}


def test_the_variables_of_other_anki_connect_tools_are_read_too(
    project: Path, collection: Collection
) -> None:
    with AnkiConnectServer(collection, api_key="k") as server:
        result = invoke("push", env={"ANKI_CONNECT_URL": server.url, "ANKI_CONNECT_API_KEY": "k"})
    assert result.exit_code == 0, result.output
    assert collection.note_count() == 4


def test_the_option_wins_over_the_environment(
    project: Path, anki_connect: AnkiConnectServer
) -> None:
    elsewhere = f"http://127.0.0.1:{free_port()}"
    result = invoke(
        "push",
        "--anki-connect-url",
        anki_connect.url,
        env={"DECKKIT_ANKI_CONNECT_URL": elsewhere},
    )
    assert result.exit_code == 0, result.output
    assert anki_connect.collection.note_count() == 4


def test_no_request_goes_anywhere_but_the_address_given(
    project: Path, anki_connect: AnkiConnectServer
) -> None:
    with Trap() as trap:
        proxies = {name: trap.url for name in PROXIES}
        result = invoke("push", "--anki-connect-url", anki_connect.url, env=proxies)
    assert result.exit_code == 0, result.output
    assert trap.requests == []
    host = anki_connect.url.removeprefix("http://")
    assert {r.host for r in anki_connect.requests} == {host}


def test_a_redirect_is_not_followed(project: Path) -> None:
    with Trap() as trap, Trap(redirect_to=trap.url) as redirecting:
        result = invoke("push", "-q", "--anki-connect-url", redirecting.url)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"error: {redirecting.url} answered with a redirect to '{trap.url}/'; deckkit talks "
        "to the address given and nowhere else: give AnkiConnect's own address"
    )
    assert len(redirecting.requests) == 1
    assert trap.requests == []


def test_a_server_that_is_not_anki_connect_is_named(project: Path) -> None:
    with Trap() as other:
        result = invoke("push", "-q", "--anki-connect-url", other.url)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"error: {other.url} does not answer as AnkiConnect (protocol version 6) does; "
        "check --anki-connect-url"
    )


@pytest.mark.parametrize("url", ["ftp://127.0.0.1:8765", "127.0.0.1:8765", "http://u:p@host/"])
def test_an_address_that_is_not_http_is_a_usage_error_before_the_build(
    project: Path, url: str
) -> None:
    result = invoke("push", "--anki-connect-url", url)
    assert result.exit_code == 2
    assert f"AnkiConnect address '{url}'" in result.stderr
    assert not (project / "build").exists()


# --- helpers ---------------------------------------------------------------------------------


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on (taken, then given back)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Trap(LocalServer):
    """An HTTP server on 127.0.0.1 that records what reaches it and answers 200 with a page,
    or with ``redirect_to`` a 307 redirect there."""

    def __init__(self, *, redirect_to: str | None = None) -> None:
        self.requests: list[str] = []
        trap = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.do_GET()

            def do_CONNECT(self) -> None:
                self.do_GET()

            def do_GET(self) -> None:
                trap.requests.append(f"{self.command} {self.path}")
                if redirect_to is not None:
                    self.send_response(307)
                    self.send_header("Location", redirect_to + "/")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = b"<html>not AnkiConnect</html>"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        super().__init__(Handler)


def test_an_accepted_note_type_change_is_merged_in_place_by_the_add_ons_importer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, anki_connect: AnkiConnectServer
) -> None:
    # The add-on's importer has "Merge note types" on (anki.importing.AnkiPackageImporter), so
    # the one import the build asks of learners after an appended field is what a push does.
    note_types = PUSH.parent / "note_types"
    (tmp_path / "sources").mkdir()
    monkeypatch.chdir(tmp_path)
    shutil.copy(note_types / "vocab.yaml", "sources/vocab.yaml")
    assert invoke("push", "--anki-connect-url", anki_connect.url).exit_code == 0
    col = anki_connect.collection
    (neko,) = col.find_notes('"Word:猫"')
    card_id = col.get_note(neko).card_ids()[0]
    answer_good(col, card_id)

    shutil.copy(note_types / "schema" / "field-appended.yaml", "sources/vocab.yaml")
    result = invoke(
        "push", "--accept-note-type-change", "Vocab", "--anki-connect-url", anki_connect.url
    )
    assert result.exit_code == 0, result.output
    # Every note of Vocab gained the (empty) field: Anki changed all three.
    assert push_lines(result)[-1].endswith(": 0 new, 3 updated, 0 unchanged notes")
    assert "Vocab+" not in {m.name for m in col.models.all_names_and_ids()}
    assert col.models.field_names(col.models.by_name("Vocab")) == [  # type: ignore[arg-type]
        "Word",
        "Reading",
        "Meaning",
        "Example",
    ]
    assert col.find_notes('"Word:猫"') == [neko]
    assert col.db.scalar("select count() from revlog where cid = ?", card_id) == 1


# --- the test server answers as the add-on does (plugin/web.py, AnkiConnect.handler) ---------


def post(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """One POST to the test server, as a client other than deckkit would send it."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("POST", "/", body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_the_server_answers_version_4_requests_with_the_bare_result(
    anki_connect: AnkiConnectServer,
) -> None:
    assert post(anki_connect.url, b'{"action": "version"}') == (200, b"6")
    assert post(anki_connect.url, b'{"action": "version", "version": 6}') == (
        200,
        b'{"result": 6, "error": null}',
    )
    assert post(anki_connect.url, b"") == (200, b"AnkiConnect v.6")


def test_the_server_checks_the_key_before_the_action(collection: Collection) -> None:
    with AnkiConnectServer(collection, api_key="k") as server:
        keyless = post(server.url, b'{"action": "nonsense", "version": 6}')
        keyed = post(server.url, b'{"action": "nonsense", "version": 6, "key": "k"}')
        permission = post(server.url, b'{"action": "requestPermission", "version": 6}')
    assert keyless == (200, b'{"result": null, "error": "valid api key must be provided"}')
    assert keyed == (200, b'{"result": null, "error": "unsupported action"}')
    assert json.loads(permission[1])["result"] == {
        "permission": "granted",
        "requireApikey": True,
        "version": 6,
    }


def test_the_server_refuses_a_foreign_origin_as_the_add_on_does(
    anki_connect: AnkiConnectServer,
) -> None:
    body = b'{"action": "version", "version": 6}'
    foreign = post(anki_connect.url, body, {"Origin": "https://example.com"})
    local = post(anki_connect.url, body, {"Origin": "http://127.0.0.1:3000"})
    assert foreign == (403, b"")
    assert local == (200, b'{"result": 6, "error": null}')


DECK_NAMES = ["Plain", "Parent::Child", "snake_case", "star*", 'quote"d', "back\\slash", "a:b (c)"]


def test_the_search_for_a_decks_notes_finds_that_deck_only(collection: Collection) -> None:
    # Decks whose names hold Anki search's wildcards and escapes, a parent and its child, and
    # look-alikes (snakeXcase would match an unescaped "_", starry one unescaped "*").
    notes = {}
    for name in [*DECK_NAMES, "Parent", "snakeXcase", "starry"]:
        deck_id = collection.decks.id(name)
        note = collection.new_note(collection.models.by_name("Basic"))  # type: ignore[arg-type]
        note["Front"] = name
        collection.add_note(note, deck_id)  # type: ignore[arg-type]
        notes[name] = note.id
    for name in [*DECK_NAMES, "Parent"]:
        assert collection.find_notes(deck_search([name])) == [notes[name]], name
    both = deck_search(["Plain", "Parent"])
    assert sorted(collection.find_notes(both)) == sorted([notes["Plain"], notes["Parent"]])


def test_the_search_finds_a_deck_whose_name_anki_stored_without_its_control_characters(
    collection: Collection,
) -> None:
    name = "Week\t1\n"  # a deck written with a tab and a line break (a YAML block scalar)
    deck_id = collection.decks.id(name)
    assert collection.decks.name(deck_id) == "Week1"  # type: ignore[arg-type]
    note = collection.new_note(collection.models.by_name("Basic"))  # type: ignore[arg-type]
    collection.add_note(note, deck_id)  # type: ignore[arg-type]

    assert collection.find_notes(deck_search([name])) == [note.id]


def test_notes_of_a_deck_whose_name_anki_changes_on_import_are_counted(
    project: Path, anki_connect: AnkiConnectServer
) -> None:
    tabbed = PUSH / "control-characters" / "capitals.yaml"
    shutil.copy(tabbed, project / "sources" / "capitals.yaml")  # in place of the first

    result = invoke("push", "--anki-connect-url", anki_connect.url)

    assert result.exit_code == 0, result.output
    assert push_lines(result)[-1].endswith(": 2 new, 0 updated, 0 unchanged notes")
    assert "Push Tests::Capitals" in anki_connect.collection.decks.all_names()


def test_edits_and_notes_of_ones_own_in_anki_stay_and_are_not_counted(
    project: Path, anki_connect: AnkiConnectServer
) -> None:
    col = anki_connect.collection
    invoke("push", "--anki-connect-url", anki_connect.url)
    france = note_of(col, "Capital of France?")
    france["Back"] = "Paris (my mnemonic)"
    col.update_note(france)
    own = col.new_note(col.models.by_name("Basic"))  # type: ignore[arg-type]
    own["Front"] = "Capital of Peru?"
    col.add_note(own, col.decks.id("Push Tests::Capitals"))  # type: ignore[arg-type]

    result = invoke("push", "--anki-connect-url", anki_connect.url)
    # The source did not change: Anki skips its older copies, the own note is not the deck's.
    assert push_lines(result)[-1].endswith(": 0 new, 0 updated, 4 unchanged notes")
    assert note_of(col, "Capital of France?")["Back"] == "Paris (my mnemonic)"
    assert col.note_count() == 5


def test_the_readmes_push_output_is_what_pushing_its_sources_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, anki_connect: AnkiConnectServer
) -> None:
    from test_readme import section, shown_runs

    shutil.copytree(REPO / "sources", tmp_path / "sources")
    shutil.copy(REPO / "deckkit.lock", tmp_path / "deckkit.lock")
    monkeypatch.chdir(tmp_path)
    (shown,) = shown_runs(section("Commands"), "deckkit push")
    printed = invoke("push", "--anki-connect-url", anki_connect.url).stdout.splitlines()
    assert shown[0] == "..."  # the warnings and the build's lines, as under deckkit build
    expected = [line.replace("http://127.0.0.1:8765", anki_connect.url) for line in shown[1:]]
    assert printed[-len(expected) :] == expected


def test_the_add_ons_importer_leaves_its_options_as_the_import_dialogs_next_choices(
    project: Path, anki_connect: AnkiConnectServer
) -> None:
    # What the README warns of: after a push, Anki's File > Import starts with these ticked.
    invoke("push", "--anki-connect-url", anki_connect.url)
    presets = anki_connect.collection._backend.get_import_anki_package_presets()
    assert (presets.merge_notetypes, presets.with_scheduling, presets.with_deck_configs) == (
        True,
        True,
        True,
    )


def test_the_servers_importer_is_the_one_the_add_on_imports() -> None:
    import anki.importing

    from anki_connect_server import AnkiPackageImporter

    assert anki.importing.AnkiPackageImporter is AnkiPackageImporter  # type: ignore[attr-defined]


def test_anki_without_an_open_profile_is_told_apart(project: Path, collection: Collection) -> None:
    with AnkiConnectServer(collection, profile_open=False) as server:
        result = invoke("push", "-q", "--anki-connect-url", server.url)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"error: AnkiConnect at {server.url} failed findNotes: collection is not available: "
        "open your profile in Anki"
    )


def test_an_anki_that_cannot_read_the_package_says_where_it_must_run(
    project: Path, collection: Collection
) -> None:
    with AnkiConnectServer(collection, elsewhere="/another-computer") as server:
        result = invoke("push", "-q", "--anki-connect-url", server.url)
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()[-1:]
    package = project / "build" / "push-capitals.apkg"
    assert line.startswith(f"error: AnkiConnect at {server.url} failed importPackage: ")
    assert line.endswith(f" (Anki reads {package} itself: it must run on this computer)")
    assert collection.note_count() == 0


def test_the_help_lists_push_and_shows_its_examples() -> None:
    listed = invoke("--help")
    shown = invoke("push", "--help")
    assert "  push " in listed.stdout
    assert "Build, then send the decks into the running Anki" in listed.stdout
    assert "deckkit push --anki-connect-url" in shown.stdout.split("Examples:", 1)[1]
    assert "2055492159" in shown.stdout


def test_a_build_with_problems_pushes_nothing(
    project: Path, anki_connect: AnkiConnectServer
) -> None:
    shutil.copy(PUSH.parent / "bad" / "answer-not-a-choice.yaml", project / "sources")
    result = invoke("push", "--anki-connect-url", anki_connect.url)
    assert result.exit_code == 1
    assert "build failed: nothing was written" in result.stderr
    assert anki_connect.requests == []


def test_an_older_anki_connect_is_told_to_update(project: Path, collection: Collection) -> None:
    with AnkiConnectServer(collection, api_version=5) as server:
        result = invoke("push", "-q", "--anki-connect-url", server.url)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"error: AnkiConnect at {server.url} speaks protocol version 5, deckkit needs 6: "
        "update the add-on (Tools > Add-ons > Check for Updates)"
    )
    assert [r.body["action"] for r in server.requests] == ["version"]
