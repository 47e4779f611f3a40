"""Real third-party decks through deckkit (issue 13): one row per deck of the issue's table.

    PYTHONPATH=src /work/main/.venv/bin/python bench/real_decks.py /work/real-decks \
        [--results bench/real-decks.md] [--deckkit-src src] [--harness tests/anki_journey.py]

For every ``*.apkg`` / ``*.colpkg`` in the folder it runs the journey of ``tests/anki_journey.py``
(imported from its path; ``--harness`` names another copy): a learner's collection made from the
original deck with Anki's default options, some cards studied, one note edited by the learner;
``deckkit import`` then ``deckkit build``; the rebuilt decks imported into the learner's
collection with the default options; everything compared. A deck deckkit refuses is a row
like any other. Besides the harness's numbers it reads the raw note types of the original and
of the rebuilt deck (template ``did``, ``bfont``/``bsize``, ``req`` are not in the harness's
snapshot) and lists what each deck uses that a round trip must keep.

The decks themselves are third-party and stay outside the repository. The folder may hold a
``SOURCES.md`` whose Markdown table has the columns ``file``, ``repository`` and ``how made``:
the table then says where each deck came from.

``--deckkit-src`` chooses the deckkit that runs (default: this checkout's ``src``), so the
same decks can be measured against another branch: ``--deckkit-src /work/main/src``.
``--only NAME`` (repeatable) runs the named decks only.
"""

from __future__ import annotations

import argparse
import datetime
import html
import importlib.util
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# Where the harness is looked for, in order, unless --harness names it.
HARNESS_CANDIDATES = (REPO / "tests" / "anki_journey.py", Path("/work/wt-a/tests/anki_journey.py"))

# Anki's defaults for what a note type may set (a value equal to these is "not used").
FIELD_DEFAULTS = {
    "rtl": False,
    "sticky": False,
    "description": "",
    "plainText": False,
    "collapsed": False,
    "excludeFromSearch": False,
}
TEMPLATE_KEYS = ("name", "qfmt", "afmt", "bqfmt", "bafmt", "did", "bfont", "bsize")
FIELD_KEYS = (
    "name",
    "font",
    "size",
    "rtl",
    "sticky",
    "description",
    "plainText",
    "collapsed",
    "excludeFromSearch",
)
# Not "req": Anki 2.1.28+ computes which templates a note needs itself and ignores it.
NOTE_TYPE_KEYS = ("type", "css", "latexPre", "latexPost", "latexsvg", "sortf")
# Anki's (and genanki's) default LaTeX preamble.
DEFAULT_LATEX_PRE = (
    "\\documentclass[12pt]{article}\n\\special{papersize=3in,5in}\n\\usepackage[utf8]{inputenc}\n"
    "\\usepackage{amssymb,amsmath}\n\\pagestyle{empty}\n\\setlength{\\parindent}{0in}\n"
    "\\begin{document}\n"
)
_MEDIA_REF = re.compile(
    r"""<(?:img|audio|video|source)\b[^>]*?\bsrc\s*=\s*["']?([^"'>\s]+)|\[sound:([^\]]+)\]""",
    re.IGNORECASE,
)


def load_harness(path: Path | None, deckkit_src: Path) -> ModuleType:
    """tests/anki_journey.py, imported from its path, running the chosen deckkit."""
    candidates = [path] if path else [p for p in HARNESS_CANDIDATES if p.exists()]
    if not candidates or not candidates[0].exists():
        sys.exit(f"no journey harness: looked for {', '.join(map(str, HARNESS_CANDIDATES))}")
    sys.path.insert(0, str(candidates[0].parent))  # the harness imports the tests' conftest
    spec = importlib.util.spec_from_file_location("anki_journey", candidates[0])
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["anki_journey"] = module
    spec.loader.exec_module(module)
    # The harness runs `python -m deckkit` with REPO/src first on the path: point it at ours.
    module.REPO = deckkit_src.resolve().parent  # type: ignore[attr-defined]
    restore = module.restore_collection_package

    def restore_upgraded(colpkg: Path, folder: Path) -> Any:
        # A collection from before Anki 2.1.50 still on the v1 scheduler: Anki desktop upgrades
        # it when it opens it; the `anki` package cannot study it until then.
        col = restore(colpkg, folder)
        if col.sched_ver() == 1:
            col.upgrade_to_v2_scheduler()
        if not col.v3_scheduler():
            col.set_v3_scheduler(True)
        col._load_scheduler()
        return col

    module.restore_collection_package = restore_upgraded  # type: ignore[attr-defined]
    return module


def read_sources(folder: Path) -> dict[str, dict[str, str]]:
    """SOURCES.md's table: file name -> its columns (lower-case names)."""
    path = folder / "SOURCES.md"
    if not path.exists():
        return {}
    rows: dict[str, dict[str, str]] = {}
    header: list[str] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = None if not line.strip() else header
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = [c.lower() for c in cells]
            continue
        if set("".join(cells)) <= set("-: "):
            continue
        row = dict(zip(header, cells, strict=False))
        name = row.get("file", "").strip("`")
        if name:
            rows[name] = row
    return rows


# --- raw note types (what the harness's snapshot leaves out) ----------------------------------


def raw_view(harness: ModuleType, packages: list[Path], folder: Path) -> dict[str, Any]:
    """Note types (raw dicts, used ones), note mods, cards per note, decks per note of packages
    imported with the desktop defaults into a new collection (a .colpkg restored)."""
    if len(packages) == 1 and packages[0].suffix == ".colpkg":
        col = harness.restore_collection_package(packages[0], folder)
    else:
        col = harness.open_collection(folder)
        for package in packages:
            harness.import_package(col, package)
    try:
        used = {mid for (mid,) in col.db.all("select distinct mid from notes")}
        types = {m["name"]: m for m in col.models.all() if m["id"] in used}
        mods = [mod for (mod,) in col.db.all("select mod from notes")]
        no_cards = col.db.scalar(
            "select count() from notes where id not in (select nid from cards)"
        )
        several_decks = col.db.scalar(
            "select count() from (select nid from cards group by nid"
            " having count(distinct case when odid then odid else did end) > 1)"
        )
        fields = [flds for (flds,) in col.db.all("select flds from notes")]
        return {
            "note_types": types,
            "mods": mods,
            "notes_without_cards": no_cards or 0,
            "notes_in_several_decks": several_decks or 0,
            "fields": fields,
            "media_dir": Path(col.media.dir()),
        }
    finally:
        col.close()


def features(view: dict[str, Any], package_media: dict[str, str]) -> list[str]:
    """What a deck uses that a lossless round trip must keep, in a few words each."""
    out: list[str] = []
    for name, nt in sorted(view["note_types"].items()):
        used = []
        if nt.get("type") == 1:
            used.append("cloze")
        if nt.get("latexsvg"):
            used.append("latexsvg")
        if " ".join(nt.get("latexPre", "").split()) != " ".join(DEFAULT_LATEX_PRE.split()):
            used.append("custom latexPre")
        if " ".join(nt.get("latexPost", "").split()) != "\\end{document}":
            used.append("custom latexPost")
        if nt.get("sortf"):
            used.append(f"sortf={nt['sortf']}")
        for t in nt["tmpls"]:
            if t.get("bqfmt") or t.get("bafmt"):
                used.append(f"browser format ({t['name']})")
            if t.get("did"):
                used.append(f"deck override did ({t['name']})")
        for f in nt["flds"]:
            opts = [k for k, default in FIELD_DEFAULTS.items() if f.get(k, default) != default]
            if opts:
                used.append(f"field {f['name']!r}: {', '.join(opts)}")
        fonts = Counter(
            f"{f.get('font')} {f.get('size')}"
            for f in nt["flds"]
            if (f.get("font"), f.get("size")) not in (("Arial", 20), ("Liberation Sans", 20))
        )
        if fonts:
            used.append("field fonts " + ", ".join(f"{k} ×{v}" for k, v in fonts.items()))
        if len(nt["tmpls"]) > 1:
            used.append(f"{len(nt['tmpls'])} templates")
        if "<script" in "".join(t["qfmt"] + t["afmt"] for t in nt["tmpls"]):
            used.append("script in template")
        if used:
            out.append(f"{name}: " + "; ".join(dict.fromkeys(used)))
    underscore = sorted(n for n in package_media if n.startswith("_"))
    if underscore:
        out.append("template assets: " + ", ".join(underscore))
    latex = sum(1 for n in package_media if n.startswith("latex-"))
    if latex:
        out.append(f"{latex} latex-*.png")
    if any(m > 10**11 for m in view["mods"]):
        out.append(f"millisecond note mods ({sum(1 for m in view['mods'] if m > 10**11)} notes)")
    if view["notes_without_cards"]:
        out.append(f"{view['notes_without_cards']} notes without cards")
    if view["notes_in_several_decks"]:
        out.append(f"{view['notes_in_several_decks']} notes with cards in several decks")
    lacking = missing_references(view["fields"], package_media)
    if lacking:
        out.append(f"{len(lacking)} referenced files the package lacks")
    escape = deckkit_escaping()
    if escape is not None:
        escaped = sum(1 for flds in view["fields"] if escape(flds) != flds)
        if escaped:
            out.append(f"{escaped} notes whose text deckkit's escaping changes ('<'/'&')")
    return out


def deckkit_escaping() -> Any:
    """The chosen deckkit's escaping of field text on export, if it still has one."""
    try:
        from deckkit.fieldtext.markup import escape_bare_markup
    except ImportError:
        return None
    return escape_bare_markup


def missing_references(fields: list[str], package_media: dict[str, str]) -> list[str]:
    names = set()
    for flds in fields:
        for match in _MEDIA_REF.finditer(flds):
            name = match.group(1) or match.group(2)
            if not re.match(r"^(?:[a-z]+:|//)", name, re.IGNORECASE):
                names.add(name)
    return sorted(n for n in names if n not in package_media)


def note_type_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Attributes of the original's note types that the rebuilt deck changed (matched by id,
    else by name)."""
    by_id = {nt["id"]: nt for nt in after.values()}
    out: list[str] = []
    for name, a in sorted(before.items()):
        b = by_id.get(a["id"]) or after.get(name)
        if b is None:
            out.append(f"{name!r} missing: not in the rebuilt deck")
            continue
        if a["id"] != b["id"]:
            out.append(f"{name!r} id: {a['id']} -> {b['id']}")
        # Anki adds "+" to a name a new collection's stock note types already use.
        if a["name"].rstrip("+") != b["name"].rstrip("+"):
            out.append(f"{name!r} name: {a['name']!r} -> {b['name']!r}")
        for key in NOTE_TYPE_KEYS:
            if a.get(key) != b.get(key):
                out.append(f"{name!r} {key}: {short(a.get(key))} -> {short(b.get(key))}")
        fa, fb = a["flds"], b["flds"]
        if [f["name"] for f in fa] != [f["name"] for f in fb]:
            out.append(f"{name!r} fields: {[f['name'] for f in fa]} -> {[f['name'] for f in fb]}")
        else:
            for x, y in zip(fa, fb, strict=True):
                for key in FIELD_KEYS:
                    if x.get(key) != y.get(key):
                        out.append(
                            f"{name!r} field {x['name']!r} {key}: "
                            f"{short(x.get(key))} -> {short(y.get(key))}"
                        )
        ta, tb = a["tmpls"], b["tmpls"]
        if [t["name"] for t in ta] != [t["name"] for t in tb]:
            out.append(
                f"{name!r} templates: {[t['name'] for t in ta]} -> {[t['name'] for t in tb]}"
            )
        for x, y in zip(ta, tb, strict=False):
            for key in TEMPLATE_KEYS:
                if x.get(key) != y.get(key):
                    out.append(
                        f"{name!r} template {x['name']!r} {key}: "
                        f"{short(x.get(key))} -> {short(y.get(key))}"
                    )
    return out


def diff_snippet(a: str, b: str, context: int = 40) -> str:
    """Where two texts first differ: a little of each around it."""
    start = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a, end_b = end_a - 1, end_b - 1
    lo = max(0, start - context)

    def part(text: str, end: int) -> str:
        stop = min(len(text), end + context, start + 3 * context)
        return ("…" if lo else "") + text[lo:stop] + ("…" if stop < len(text) else "")

    return f"{part(a, end_a)!r} -> {part(b, end_b)!r}"


def change_class(old: tuple[str, ...], new: tuple[str, ...], renamed: list[tuple[str, str]]) -> str:
    """Why a note's field text changed: media renamed, HTML escaping, whitespace, or other."""
    if len(old) != len(new):
        return "number of fields"
    back = new
    if renamed:

        def unrename(text: str) -> str:
            for name, new_name in renamed:
                text = text.replace(new_name, name)
            return text

        back = tuple(unrename(t) for t in new)
        if back == old:
            return "media renamed"
    if tuple(html.unescape(t) for t in back) == tuple(html.unescape(t) for t in old):
        return "HTML escaping"
    if tuple(" ".join(t.split()) for t in back) == tuple(" ".join(t.split()) for t in old):
        return "whitespace"
    return "other"


def short(value: Any, limit: int = 80) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- one deck -----------------------------------------------------------------------------


@dataclass
class Result:
    deck: str
    source: dict[str, str]
    size: int
    notes: int = 0
    cards: int = 0
    note_types: list[str] = field(default_factory=list)  # "name (N fields)"
    fields_per_type: str = ""
    media: int = 0
    features: list[str] = field(default_factory=list)
    outcome: str = ""  # ok / refused / build failed / crash
    reason: str | None = None
    import_lines: list[str] = field(default_factory=list)  # skipped:/note:/error: lines
    build_lines: list[str] = field(default_factory=list)
    t_import: float | None = None
    t_build: float | None = None
    built_packages: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    notes_lost: int | None = None
    notes_added: int | None = None
    fields_changed: int | None = None
    field_examples: list[str] = field(default_factory=list)
    field_change_kinds: dict[str, int] = field(default_factory=dict)
    learner_fields_changed: int | None = None
    media_changed: list[str] = field(default_factory=list)
    media_renamed: list[tuple[str, str]] = field(default_factory=list)
    media_added_to_learner: int | None = None
    note_type_changes: list[str] = field(default_factory=list)
    note_types_forked: int | None = None
    learner_edit_kept: bool | None = None
    reviews_kept: bool | None = None
    schedule_changes: list[str] = field(default_factory=list)
    card_changes: list[str] = field(default_factory=list)  # decks of cards, missing cards
    tags_changed: int | None = None
    decks_changed: str | None = None
    error: str | None = None
    seconds: float = 0.0


def interesting(run: Any) -> list[str]:
    """The lines of a deckkit run that say what it refused, skipped or could not find."""
    if run is None:
        return []
    keep = ("skipped", "nothing was written", "error:", "note:", "build failed", "warning:")
    out = []
    for line in (run.stdout + "\n" + run.stderr).splitlines():
        text = line.strip()
        if text.startswith(keep) or any(f" {k}" in text for k in ("error:", "warning:")):
            out.append(text)
    return out


def measure(harness: ModuleType, package: Path, source: dict[str, str], tmp: Path) -> Result:
    result = Result(package.name, source, package.stat().st_size)
    started = time.perf_counter()
    journey = harness.run_journey(package, tmp)
    result.seconds = time.perf_counter() - started
    original = journey.original_view
    result.notes = len(original.notes)
    result.cards = len(original.cards)
    result.media = len(journey.original_media)
    raw_before = raw_view(harness, [package], tmp / "raw-original")
    result.note_types = [
        f"{name} ({len(nt['flds'])} fields{', cloze' if nt.get('type') == 1 else ''})"
        for name, nt in sorted(raw_before["note_types"].items())
    ]
    result.fields_per_type = ", ".join(
        str(len(nt["flds"])) for _, nt in sorted(raw_before["note_types"].items())
    )
    result.features = features(raw_before, journey.original_media)
    conversion = journey.conversion
    result.import_lines = interesting(conversion.imported)
    result.build_lines = interesting(conversion.built)
    result.t_import = conversion.imported.seconds
    result.t_build = conversion.built.seconds if conversion.built else None
    result.built_packages = len(conversion.packages)
    refusal = journey.refusal
    if refusal:
        result.reason = refusal
        result.outcome = (
            "refused"
            if not conversion.imported.ok
            else "build failed"
            if not conversion.ok
            else "Anki refused the build"
        )
        if not conversion.imported.ok and any(conversion.sources.glob("*.yaml")):
            # The import wrote sources but they have problems (exit 1): what does the build say?
            built, _packages = harness.build_sources(conversion.workdir)
            result.build_lines = interesting(built)
            result.t_build = built.seconds
            result.outcome = (
                "import wrote invalid sources, build failed"
                if not built.ok
                else "import exit 1, build ok (journey not run)"
            )
        return result
    result.outcome = "ok"
    rebuilt = journey.rebuilt_view
    after = journey.learner_after
    before = journey.learner_before
    counts = journey.counts
    result.counts = {k: getattr(counts, k) for k in ("new", "updated", "duplicate", "conflicting")}
    result.notes_lost = len(original.notes.keys() - rebuilt.notes.keys())
    result.notes_added = len(rebuilt.notes.keys() - original.notes.keys())
    changed = harness.notes_with_changed_fields(original, rebuilt)
    result.fields_changed = len(changed)
    result.media_changed = harness.changed_media(journey.original_media, journey.rebuilt_media)
    by_content = {sha1: name for name, sha1 in journey.rebuilt_media.items()}
    result.media_renamed = [
        (name, by_content[journey.original_media[name]])
        for name in result.media_changed
        if journey.original_media[name] in by_content
    ]
    names = {name: [f[0] for f in nt.fields] for name, nt in original.note_types.items()}
    examples: dict[str, list[str]] = {}
    for guid in changed:
        old, new = original.notes[guid], rebuilt.notes[guid]
        kind = change_class(old.fields, new.fields, result.media_renamed)
        result.field_change_kinds[kind] = result.field_change_kinds.get(kind, 0) + 1
        if len(examples.setdefault(kind, [])) >= 2:
            continue
        for index, (a, b) in enumerate(zip(old.fields, new.fields, strict=False)):
            if a != b:
                label = names.get(old.note_type, [])[index : index + 1] or [f"#{index}"]
                examples[kind].append(
                    f"[{kind}] {old.note_type} / {label[0]}: {diff_snippet(a, b)}"
                )
                break
        else:
            examples[kind].append(
                f"[{kind}] {old.note_type}: {len(old.fields)} fields -> {len(new.fields)}"
            )
    result.field_examples = [e for kind in examples.values() for e in kind]
    result.learner_fields_changed = sum(
        1
        for guid in before.notes.keys() & after.notes.keys()
        if before.notes[guid].fields != after.notes[guid].fields
    )
    result.media_added_to_learner = len(after.media.keys() - before.media.keys())
    raw_after = raw_view(harness, list(conversion.packages), tmp / "raw-rebuilt")
    result.note_type_changes = note_type_changes(raw_before["note_types"], raw_after["note_types"])
    result.note_types_forked = len(after.note_types.keys() - before.note_types.keys())
    result.learner_edit_kept = harness.learner_edit_kept(journey)
    result.reviews_kept = harness.reviews_kept(journey)
    result.schedule_changes = harness.compare(before, after, ("cards.schedule", "revlog"))[:5]
    result.card_changes = harness.compare(original, rebuilt, ("cards.deck",))
    result.tags_changed = sum(
        1
        for guid in original.notes.keys() & rebuilt.notes.keys()
        if original.notes[guid].tags != rebuilt.notes[guid].tags
    )
    if original.decks != rebuilt.decks:
        gone = sorted(original.decks - rebuilt.decks)
        new = sorted(rebuilt.decks - original.decks)
        result.decks_changed = f"missing {gone[:3]}{'…' if len(gone) > 3 else ''}, added {new[:3]}"
    result.error = journey.error
    return result


def measure_safely(harness: ModuleType, package: Path, source: dict[str, str]) -> Result:
    with tempfile.TemporaryDirectory(prefix="dk13-real-") as tmp:
        try:
            return measure(harness, package, source, Path(tmp))
        except Exception:
            result = Result(package.name, source, package.stat().st_size)
            result.outcome = "crash"
            result.reason = traceback.format_exc(limit=4).strip().splitlines()[-1]
            result.error = traceback.format_exc()
            return result


# --- the report ---------------------------------------------------------------------------


def yes_no(value: bool | None) -> str:
    return "–" if value is None else ("yes" if value else "**no**")


def num(value: int | None) -> str:
    return "–" if value is None else str(value)


def seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary(lines: list[str]) -> list[str]:
    """deckkit's problem lines in short: each error code once, with how often and its first
    message (positions and "looked for" paths left out); skipped/nothing-written lines as they
    are."""
    out: list[str] = []
    codes: dict[str, list[str]] = {}
    for line in lines:
        if line.startswith(("skipped", "nothing was written")):
            out.append(line)
            continue
        match = re.search(r"\berror: (.*?)(?: \[([\w.-]+)\])?$", line)
        if match:
            message = re.sub(r" \(looked for [^)]*\)", "", match.group(1))
            codes.setdefault(match.group(2) or "error", []).append(message)
    for code, messages in codes.items():
        first = messages[0] if len(messages[0]) <= 140 else messages[0][:139] + "…"
        out.append(
            f"{len(messages)} × {code}: {first}" if len(messages) > 1 else f"{code}: {first}"
        )
    return out


def result_cell(r: Result) -> str:
    skipped = [line for line in r.import_lines if line.startswith("skipped")]
    if r.outcome == "ok":
        return "ok" + (" (" + "; ".join(skipped) + ")" if skipped else "")
    lines = summary(r.import_lines if r.outcome == "refused" else r.build_lines + skipped)
    return f"**{r.outcome}**: " + ("; ".join(lines) if lines else (r.reason or ""))


def table(results: list[Result]) -> list[str]:
    head = (
        "| deck | how made (repository) | notes | note types | fields per type | media "
        "| deckkit import → build | new (duplicated) | updated | unchanged (Anki: duplicate) "
        "| notes lost | fields changed | media changed | note-type settings changed "
        "| learner edit kept | reviews kept | import s | build s |"
    )
    out = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        how = r.source.get("how made", "")
        repo = r.source.get("repository", "")
        out.append(
            "| "
            + " | ".join(
                cell(x)
                for x in (
                    f"`{r.deck}`",
                    f"{how} ({repo})" if repo else how,
                    str(r.notes),
                    str(len(r.note_types)),
                    r.fields_per_type,
                    str(r.media),
                    result_cell(r),
                    num(r.counts.get("new")),
                    num(r.counts.get("updated")),
                    num(r.counts.get("duplicate")),
                    num(r.notes_lost),
                    num(r.fields_changed),
                    num(len(r.media_changed) if r.outcome == "ok" else None),
                    num(len(r.note_type_changes) if r.outcome == "ok" else None),
                    yes_no(r.learner_edit_kept),
                    yes_no(r.reviews_kept),
                    seconds(r.t_import),
                    seconds(r.t_build),
                )
            )
            + " |"
        )
    return out


def change_kind(change: str) -> str:
    """The attribute a note_type_changes() line is about: "font", "qfmt", "latexPre", …"""
    rest = re.sub(r"^'.*?'(?: (?:field|template) '.*?')? ", "", change, count=1)
    return rest.split(":", 1)[0]


def details(r: Result) -> list[str]:
    out = [f"### `{r.deck}`", ""]
    src = r.source
    if src:
        out.append(
            f"- from: {src.get('repository', '?')} `{src.get('path', '')}` "
            f"at {src.get('commit', '?')[:12]}, licence {src.get('licence', '?')}; "
            f"how made: {src.get('how made', '?')}"
        )
    out.append(
        f"- {r.notes} notes, {r.cards} cards, {r.media} media files, {r.size:,} bytes; "
        f"note types: {', '.join(r.note_types) or '–'}"
    )
    if r.features:
        out.append("- uses: " + "; ".join(r.features))
    out.append(f"- result: {result_cell(r)}")
    if r.outcome == "crash" and r.error:
        out += ["", "```", r.error.strip(), "```"]
    for label, lines in (("import said", r.import_lines), ("build said", r.build_lines)):
        if lines:
            shown = lines[:8]
            out.append(f"- {label}:" + "".join(f"\n  - `{cell(x)[:400]}`" for x in shown))
            if len(lines) > 8:
                out.append(f"  - … {len(lines) - 8} more lines")
    if r.outcome == "ok":
        out.append(
            f"- re-import into the learner's collection: {r.counts}; notes whose text changed "
            f"there: {r.learner_fields_changed}; files added to its media folder: "
            f"{r.media_added_to_learner}; note types added: {r.note_types_forked}"
        )
        if r.field_examples:
            kinds = ", ".join(f"{k}: {v}" for k, v in r.field_change_kinds.items())
            out.append(
                f"- field text changed ({kinds}), original -> rebuilt, e.g.:"
                + "".join(f"\n  - `{cell(x)}`" for x in r.field_examples)
            )
        if r.media_changed:
            renamed = dict(r.media_renamed)
            gone = [n for n in r.media_changed if n not in renamed]
            if renamed:
                first = next(iter(renamed.items()))
                out.append(f"- media renamed: {len(renamed)}, e.g. `{first[0]}` -> `{first[1]}`")
            if gone:
                out.append(
                    f"- media dropped: {len(gone)}: "
                    + ", ".join(f"`{n}`" for n in gone[:6])
                    + (" …" if len(gone) > 6 else "")
                )
        if r.note_type_changes:
            counted = Counter(change_kind(c) for c in r.note_type_changes)
            out.append(
                "- note-type settings changed ("
                + ", ".join(f"{k} ×{v}" for k, v in counted.items())
                + "), e.g.:"
                + "".join(f"\n  - `{cell(x)}`" for x in r.note_type_changes[:6])
            )
        if r.card_changes:
            out.append(
                f"- cards: {len(r.card_changes)} differences, e.g. `{cell(r.card_changes[0])}`"
            )
        if r.tags_changed:
            out.append(f"- tags changed on {r.tags_changed} notes")
        if r.decks_changed:
            out.append(f"- decks: {r.decks_changed}")
        if r.schedule_changes:
            out.append("- scheduling changed: " + "; ".join(f"`{x}`" for x in r.schedule_changes))
        if r.error:
            out.append(f"- error after the conversion: {r.error}")
    out.append("")
    return out


def losses(results: list[Result]) -> list[str]:
    """Every kind of loss or refusal seen, with the decks and note counts it hit."""
    kinds: dict[str, list[str]] = {}

    def add(kind: str, entry: str) -> None:
        kinds.setdefault(kind, []).append(entry)

    for r in results:
        lines = r.import_lines + r.build_lines
        for line in dict.fromkeys(lines):
            skipped = re.match(r"skipped: (\d+) notes? of note type '(.*)' \((.*)\)$", line)
            if skipped:
                add(
                    f"import skips notes: ({skipped.group(3)})",
                    f"`{r.deck}`: {skipped.group(1)} note(s) of {skipped.group(2)!r}",
                )
        for line in summary(r.build_lines if r.outcome != "refused" else []):
            if not line.startswith("skipped"):
                add(
                    "build fails: " + re.sub(r"^\d+ × ", "", line).split(":")[0],
                    f"`{r.deck}`: {line}",
                )
        if r.outcome == "refused":
            add("import refuses the deck (nothing written)", f"`{r.deck}` ({r.notes} notes)")
        if r.outcome == "crash":
            add("bench crash", f"`{r.deck}`: {r.reason}")
        if r.outcome != "ok":
            continue
        if r.learner_edit_kept is False:
            add("learner's edit overwritten by the re-import", f"`{r.deck}`")
        updated, unchanged = r.counts.get("updated", 0), r.counts.get("duplicate", 0)
        if updated > (r.fields_changed or 0) + 1:
            add(
                "unchanged notes re-stamped: Anki updates them (original note mtimes not kept)",
                f"`{r.deck}`: {updated} of {r.notes} updated, {r.fields_changed} changed",
            )
        # Unchanged notes skipped as not newer is the goal (the learner's copy stays); it is a
        # loss only when the rebuilt notes' text differs, since those changes would never arrive.
        if unchanged and r.fields_changed:
            add(
                "changed notes not newer than the learner's: Anki skips them",
                f"`{r.deck}`: {unchanged} of {r.notes} skipped, {r.fields_changed} changed",
            )
        if r.counts.get("new"):
            add("duplicated notes", f"`{r.deck}`: {r.counts['new']}")
        if r.notes_lost:
            add("notes lost", f"`{r.deck}`: {r.notes_lost}")
        renamed = dict(r.media_renamed)
        if renamed:
            first = next(iter(renamed.items()))
            add(
                "media renamed (references rewritten)",
                f"`{r.deck}`: {len(renamed)}, e.g. `{first[0]}` -> `{first[1]}`; "
                f"{r.media_added_to_learner} copies added to the learner's media folder",
            )
        gone = [n for n in r.media_changed if n not in renamed]
        if gone:
            add(
                "media dropped (not referenced from a field)",
                f"`{r.deck}`: {len(gone)}: "
                + ", ".join(f"`{n}`" for n in gone[:4])
                + (" …" if len(gone) > 4 else ""),
            )
        for kind, count in r.field_change_kinds.items():
            if kind != "media renamed":
                example = next((e for e in r.field_examples if e.startswith(f"[{kind}]")), "")
                add(
                    f"field text changed: {kind}",
                    f"`{r.deck}`: {count} note(s), e.g. `{cell(example[len(kind) + 3 :][:300])}`",
                )
        by_kind = Counter(change_kind(c) for c in r.note_type_changes)
        for kind, count in by_kind.items():
            example = next(c for c in r.note_type_changes if change_kind(c) == kind)
            add(
                f"note-type setting changed: {kind}",
                f"`{r.deck}`: ×{count}, e.g. `{cell(example)}`",
            )
        if r.card_changes:
            add("cards moved or missing", f"`{r.deck}`: {len(r.card_changes)}")
        if r.tags_changed:
            add("tags changed", f"`{r.deck}`: {r.tags_changed} notes")
        if r.decks_changed:
            add("decks changed", f"`{r.deck}`: {r.decks_changed}")
        if r.reviews_kept is False:
            add("reviews changed", f"`{r.deck}`: " + "; ".join(r.schedule_changes[:2]))
        if r.note_types_forked:
            add(
                "note types forked in the learner's collection",
                f"`{r.deck}`: {r.note_types_forked}",
            )
    out = []
    for kind, entries in kinds.items():
        decks = len({e.split("`")[1] for e in entries})
        out.append(
            f"- **{kind}** ({decks} deck{'s' if decks != 1 else ''}):"
            + "".join(f"\n  - {e}" for e in entries)
        )
    return out or ["- nothing"]


def environment(deckkit_src: Path) -> str:
    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", "-C", str(deckkit_src), *args], capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "?"

    import anki.buildinfo

    dirty = " (with uncommitted changes)" if git("status", "--porcelain", "--", ".") else ""
    return (
        f"deckkit {git('rev-parse', '--short', 'HEAD')} of "
        f"`{git('rev-parse', '--abbrev-ref', 'HEAD')}`{dirty} ({deckkit_src}), "
        f"anki {anki.buildinfo.version}, Python "
        f"{platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores (shared)"
    )


def report(results: list[Result], folder: Path, deckkit_src: Path, command: str) -> str:
    refused = [r for r in results if r.outcome != "ok"]
    outcomes = ", ".join(
        f"{k}: {v}" for k, v in sorted(Counter(r.outcome for r in refused).items())
    )
    out = [
        "# Real decks through deckkit (issue 13)",
        "",
        f"{datetime.date.today().isoformat()}; {environment(deckkit_src)}.",
        "",
        f"{len(results)} third-party decks from public GitHub repositories (list, licences and "
        f"commits: `{folder}/SOURCES.md`; the decks are not in this repository). Each went "
        "through the journey of `tests/anki_journey.py`: a learner's collection made from the "
        "original with Anki's default import options (a .colpkg restored as the whole "
        "collection), two cards of each top-level deck studied, the learner's edit appended to "
        "the first field of one note; `deckkit import D -o sources`; `deckkit build sources "
        "--format apkg -j 1`; every rebuilt package imported into the learner's collection "
        'with the default options (update notes and note types "if newer").',
        "",
        "Reproduce:",
        "",
        "```",
        command,
        "```",
        "",
        "Columns: *new (duplicated)* notes the re-import added beside the learner's; *updated* "
        "notes whose text Anki replaced (the incoming note was newer); *unchanged* notes Anki "
        "skipped as not newer (its log calls them duplicates); *notes lost* notes of the "
        "original absent from the rebuilt deck; *fields changed* notes whose field text in the "
        "rebuilt deck differs byte for byte from the original's (both imported into new "
        "collections); *media changed* files of the original package missing from the rebuilt "
        "packages under the same name with the same content; *note-type settings changed* "
        "attributes of the original note types (fields and their options, templates with "
        "`bqfmt`/`bafmt`/`did`, CSS, LaTeX, sort field, id) that differ in the rebuilt deck; "
        "*reviews kept* the learner's cards' due/interval/reps/queue and review log unchanged "
        "by the re-import. Times are wall seconds of `deckkit import` and `deckkit build`.",
        "",
        f"**{len(refused)} of {len(results)} decks did not come through** ({outcomes or 'none'}).",
        "",
        *table(results),
        "",
    ]
    out += ["## What was lost or refused, by kind", "", *losses(results), ""]
    out += [
        "## What the decks use that a lossless round trip must keep",
        "",
        "| deck | result | uses |",
        "|---|---|---|",
        *(f"| `{r.deck}` | {r.outcome} | {cell('; '.join(r.features)) or '–'} |" for r in results),
        "",
    ]
    largest = max(results, key=lambda r: r.notes, default=None)
    through = max((r for r in results if r.outcome == "ok"), key=lambda r: r.notes, default=None)
    if largest:
        out += ["## The largest decks", ""]
        for label, r in (("largest", largest), ("largest that came through", through)):
            if r is None or (label != "largest" and r is largest):
                continue
            out.append(
                f"- {label}: `{r.deck}`, {r.notes} notes, {len(r.note_types)} note type(s) with "
                f"{r.fields_per_type} fields, {r.media} media: `deckkit import` "
                f"{seconds(r.t_import)} s"
                + (f" ({result_cell(r)})" if r.outcome != "ok" else "")
                + f", `deckkit build` {seconds(r.t_build)} s"
                + (" (not run: nothing to build)" if r.t_build is None else "")
                + "."
            )
        out.append("")
    out += ["## Per deck", ""]
    for r in results:
        out += details(r)
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder of .apkg/.colpkg decks (and SOURCES.md)")
    parser.add_argument("--results", type=Path, default=HERE / "real-decks.md")
    parser.add_argument("--deckkit-src", type=Path, default=REPO / "src")
    parser.add_argument("--harness", type=Path, default=None)
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--json", type=Path, default=None, help="also write the raw results")
    args = parser.parse_args(argv)
    harness = load_harness(args.harness, args.deckkit_src)
    sources = read_sources(args.folder)
    packages = sorted([*args.folder.glob("*.apkg"), *args.folder.glob("*.colpkg")])
    if args.only:
        packages = [p for p in packages if p.name in args.only or p.stem in args.only]
    results = []
    for package in packages:
        print(f"{package.name} …", file=sys.stderr, flush=True)
        result = measure_safely(harness, package, sources.get(package.name, {}))
        print(
            f"  {result.outcome} in {result.seconds:.1f} s: {result_cell(result)[:200]}",
            file=sys.stderr,
            flush=True,
        )
        results.append(result)
    command = (
        f"PYTHONPATH={args.deckkit_src} {sys.executable} bench/real_decks.py {args.folder}"
        + (f" --deckkit-src {args.deckkit_src}" if args.deckkit_src != REPO / "src" else "")
        + (f" --harness {args.harness}" if args.harness else "")
        + "".join(f" --only {o}" for o in args.only)
    )
    args.results.write_text(report(results, args.folder, args.deckkit_src, command), "utf-8")
    if args.json:
        args.json.write_text(
            json.dumps([r.__dict__ for r in results], indent=1, default=str, ensure_ascii=False),
            "utf-8",
        )
    print(f"wrote {args.results}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
