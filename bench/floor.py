"""The "floor" of issue 5: the fastest known way to do a build's essential work, as one process.

    python bench/floor.py --schema schemas/deck.schema.json --out OUT_DIR FILE.yaml...

For every file: parse with libyaml's CSafeLoader while the garbage collector is paused, validate
the document (every card) against the deck schema with the fastest validator installed
(jsonschema-rs, else fastjsonschema), write one genanki .apkg of two-field basic notes (with the
media files next to the source) and one CSV of the same rows with the csv module. It keeps no
positions, rewrites no HTML and checks nothing beyond the schema: it is what deckkit cannot beat,
not what it should do. Prints one JSON line (validator used, files, cards) on success.

bench/run.py runs it as a subprocess and times it; it is not part of deckkit.
"""

import gc

gc.disable()  # before anything allocates: the floor parses with the collector paused

import argparse  # noqa: E402
import csv  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import genanki  # noqa: E402
import yaml  # noqa: E402

Check = Callable[[Any], "str | None"]


def _validator(schema: dict[str, Any]) -> tuple[str, Check]:
    """(name, validate(document) -> error message or None) for the fastest validator available."""
    try:
        import jsonschema_rs
    except ImportError:
        pass
    else:
        compiled = jsonschema_rs.validator_for(schema)

        def check_rs(document: Any) -> str | None:
            if compiled.is_valid(document):
                return None
            return "; ".join(str(e) for e in list(compiled.iter_errors(document))[:3])

        return f"jsonschema-rs {_version('jsonschema_rs')}", check_rs
    try:
        import fastjsonschema
    except ImportError:
        sys.exit("floor: needs jsonschema-rs or fastjsonschema (pip install jsonschema-rs)")
    compiled_fast = fastjsonschema.compile(schema, use_default=False)

    def check_fast(document: Any) -> str | None:
        try:
            compiled_fast(document)
        except fastjsonschema.JsonSchemaValueException as error:
            return str(error)
        return None

    return f"fastjsonschema {_version('fastjsonschema')}", check_fast


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution.replace("_", "-"))
    except PackageNotFoundError:
        return "?"


MODEL = genanki.Model(
    1_607_392_319,
    "floor Basic",
    fields=[{"name": "Front"}, {"name": "Back"}],
    templates=[
        {"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{FrontSide}}<hr id=answer>{{Back}}"}
    ],
)


def _two_fields(card: dict[str, Any]) -> tuple[str, str]:
    kind = card.get("type", "basic")
    if kind in ("basic", "reversed"):
        return card["front"], card["back"]
    if kind == "cloze":
        return card["text"], card.get("extra", "")
    if kind == "type_in":
        return card["front"], card["answer"]
    if kind == "multiple_choice":
        answer = card["answer"]
        answer = answer if isinstance(answer, str) else ", ".join(answer)
        choices = "<br>".join(card["choices"])
        return f"{card['question']}<br>{choices}", f"{answer} {card.get('explanation', '')}"
    concepts = "<br>".join(card.get("concepts") or ())
    return card["prompt"], f"{concepts}<br>{card.get('answer', '')}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schema", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    name, check = _validator(json.loads(args.schema.read_text(encoding="utf-8")))
    args.out.mkdir(parents=True, exist_ok=True)
    warnings.simplefilter("ignore")  # genanki's HTML guesses; deckkit silences them too
    cards = 0
    for path in args.files:
        with open(path, "rb") as handle:
            document = yaml.load(handle, Loader=yaml.CSafeLoader)
        problem = check(document)
        if problem:
            sys.exit(f"floor: {path} is not valid: {problem}")
        deck_id = document["id"]
        deck_tags = list(document.get("tags") or ())
        anki_id = (1 << 30) + int.from_bytes(
            hashlib.sha256(deck_id.encode()).digest()[:8], "big"
        ) % (1 << 30)
        deck = genanki.Deck(anki_id, document["deck"])
        rows = []
        for card in document["cards"]:
            front, back = _two_fields(card)
            tags = deck_tags + list(card.get("tags") or ())
            if card.get("level"):
                tags.append(f"level::{card['level']}")
            guid = genanki.guid_for(deck_id, card["id"])
            deck.add_note(genanki.Note(model=MODEL, fields=[front, back], tags=tags, guid=guid))
            rows.append((guid, front, back, " ".join(tags)))
        cards += len(rows)
        media_dir = path.parent / "media"
        media = sorted(str(p) for p in media_dir.iterdir()) if media_dir.is_dir() else []
        genanki.Package(deck, media_files=media).write_to_file(args.out / f"{deck_id}.apkg")
        with open(args.out / f"{deck_id}.csv", "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, quoting=csv.QUOTE_ALL).writerows(rows)
    print(json.dumps({"validator": name, "files": len(args.files), "cards": cards}))


if __name__ == "__main__":
    main()
