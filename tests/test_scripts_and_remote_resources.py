"""validate warns about what a stranger's deck runs or fetches when a card is shown (issue 12):
remote resources in fields, and scripts, remote resources and break-outs in the templates and CSS
of kept note types, each pointing at the character at fault. Warnings: `--strict` refuses them.

(Scripts in fields and unclosed tags: tests/test_html_rules.py.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from deckkit import validate
from deckkit.cli import main


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_front(folder: Path, front: str) -> Path:
    """A deck of one basic card with this front (as a JSON string: valid YAML)."""
    path = folder / "deck.yaml"
    path.write_text(
        f"deck: Remote\nid: remote\ncards:\n  - id: one\n    front: {json.dumps(front)}\n"
        "    back: back\n",
        encoding="utf-8",
    )
    return path


# --- remote resources in fields ---------------------------------------------------------------

REMOTE_IN_FIELDS = {
    "iframe": ('<iframe src="https://evil.example/page"></iframe>x', "<iframe src>"),
    "video poster": ('<video poster="https://evil.example/p.png"></video>', "<video poster>"),
    "style import": (
        '<style>@import "https://evil.example/x.css";</style>x',
        "@import in <style>",
    ),
    "style url": (
        '<span style="background: url(//evil.example/b.png)">x</span>',
        "CSS url() in style attribute",
    ),
    "srcset": ('<img alt=a srcset="a.png 1x, https://evil.example/a.png 2x">', "<img srcset>"),
    "entities": ('<iframe src="https:&#47;&#47;evil.example"></iframe>x', "<iframe src>"),
    "tab in scheme": ('<iframe src="ht&#9;tps://evil.example"></iframe>x', "<iframe src>"),
    "css escapes": (
        '<style>@import "\\68ttps://evil.example/x.css";</style>x',
        "@import in <style>",
    ),
    "quoted >": ('<img alt=">" srcset="https://evil.example/a.png">', "<img srcset>"),
}


@pytest.mark.parametrize("name", list(REMOTE_IN_FIELDS))
def test_a_remote_resource_in_a_field_is_a_warning_naming_it(name: str, in_tmp: Path) -> None:
    front, what = REMOTE_IN_FIELDS[name]
    write_front(in_tmp, front)
    result = invoke("validate", "deck.yaml")
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.stdout.splitlines() if "[check.remote-resource]" in line]
    assert line.startswith("deck.yaml:5:")
    assert ": warning: field loads '" in line
    assert f"from the network ({what})" in line
    strict = invoke("validate", "--strict", "deck.yaml")
    assert strict.exit_code == 1
    assert "error: field loads" in strict.stdout


def test_the_warning_points_at_the_attribute_value(in_tmp: Path) -> None:
    write_front(in_tmp, 'see <iframe src="https://evil.example/page"></iframe>')
    (problem,) = validate([in_tmp / "deck.yaml"]).problems
    line = (in_tmp / "deck.yaml").read_text("utf-8").splitlines()[problem.line - 1]
    assert line[problem.column - 1 :].startswith("https://evil.example/page")
    assert problem.code == "check.remote-resource"


@pytest.mark.parametrize(
    "front",
    [
        '<a href="https://example.com/more">more</a>',  # a link: fetched only when followed
        '<iframe src="local.html"></iframe>x',
        '<span style="background: url(local.png)">x</span>',
        "<link rel=stylesheet href=https://evil.example/x.css> is text: deckkit escapes it",
        "the address https://example.com in plain text",
        '<img alt="data" srcset="data:image/png;base64,AAAA 1x">',
    ],
)
def test_what_loads_nothing_from_the_network_gives_no_warning(front: str, in_tmp: Path) -> None:
    write_front(in_tmp, front)
    assert [p for p in validate([in_tmp / "deck.yaml"]).problems if p.code != "check.script"] == []


def test_a_remote_image_is_reported_once_as_remote_media(in_tmp: Path) -> None:
    write_front(in_tmp, '<img src="https://evil.example/a.png">')
    codes = [p.code for p in validate([in_tmp / "deck.yaml"]).problems]
    assert codes == ["check.media-url"]


@pytest.mark.parametrize(
    "front",
    [
        "<svg/onload=alert(1)>",
        "<details open ontoggle=alert(1)>x</details>",
        '<img alt=">" onerror=alert(1)>',
        '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>',
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
    ],
)
def test_handlers_a_pattern_missed_are_scripts(front: str, in_tmp: Path) -> None:
    write_front(in_tmp, front)
    codes = {p.code for p in validate([in_tmp / "deck.yaml"]).problems}
    assert "check.script" in codes


# --- the templates and CSS of kept note types -------------------------------------------------

KEPT = """\
deck: Kept
id: kept
cards:
  - id: one
    note_type: Theirs
    front: hello
    back: world
note_types:
  - name: Theirs
    id: 1700000000001
    mod: 0
    kind: basic
    fields:
      - {{name: Front, role: front}}
      - {{name: Back, role: back}}
    templates:
      - name: Card 1
        front: |
          <div class="q">{{{{Front}}}}</div>
          {front}
        back: "{{{{FrontSide}}}}<hr id=answer>{back}"
    css: |
      .card {{ font-size: 20px; }}
      {css}
"""


def write_kept(folder: Path, *, front: str = "", back: str = "", css: str = "") -> Path:
    path = folder / "kept.yaml"
    path.write_text(KEPT.format(front=front, back=back, css=css), encoding="utf-8")
    return path


def lines_of(result: Result) -> list[str]:
    return result.stdout.splitlines()


def test_a_clean_kept_note_type_gives_no_warning(in_tmp: Path) -> None:
    write_kept(in_tmp)
    result = invoke("validate", "kept.yaml")
    assert (result.exit_code, result.stdout) == (0, "")


def test_a_script_in_a_template_is_a_warning_at_its_line_and_column(in_tmp: Path) -> None:
    write_kept(in_tmp, front="<script>alert(1)</script>")
    result = invoke("validate", "kept.yaml")
    assert result.exit_code == 0
    assert lines_of(result) == [
        "kept.yaml:20:11: warning: the front template 1 of note type 'Theirs' contains a script "
        "(<script>, an on...= handler or javascript:), which Anki runs when showing the card; "
        "remove it unless you wrote it yourself [check.script]"
    ]
    assert invoke("validate", "--strict", "kept.yaml").exit_code == 1


def test_a_template_that_ends_its_template_element_is_a_warning(in_tmp: Path) -> None:
    write_kept(in_tmp, back="</template><img src=x onerror=alert(1)>")
    result = invoke("validate", "kept.yaml")
    assert result.exit_code == 0
    assert lines_of(result) == [
        "kept.yaml:21:43: warning: the back template 1 of note type 'Theirs' contains "
        "'</template>', which ends the element a page holds it in early, so that what follows "
        "is read as the page's own HTML; remove it [check.breakout]",
        "kept.yaml:21:63: warning: the back template 1 of note type 'Theirs' loads 'x' "
        "(<img src>), which is not in its media: list the file under the note type's media, so "
        "that it is packed and Anki finds it in its media folder [check.template-media-unlisted]",
        "kept.yaml:21:65: warning: the back template 1 of note type 'Theirs' contains a script "
        "(<script>, an on...= handler or javascript:), which Anki runs when showing the card; "
        "remove it unless you wrote it yourself [check.script]",
    ]


@pytest.mark.parametrize(
    ("template", "what"),
    [
        ('<link rel="stylesheet" href="https://evil.example/x.css">', "<link href>"),
        ('<img src="https://evil.example/t.png">', "<img src>"),
        ('<script src="//evil.example/x.js"></script>', "<script src>"),
    ],
)
def test_a_remote_resource_in_a_template_is_a_warning(
    template: str, what: str, in_tmp: Path
) -> None:
    write_kept(in_tmp, front=template)
    lines = [line for line in lines_of(invoke("validate", "kept.yaml")) if "remote" in line]
    (line,) = lines
    assert line.startswith("kept.yaml:20:")
    assert "the front template 1 of note type 'Theirs' loads '" in line
    assert f"({what})" in line


@pytest.mark.parametrize(
    ("css", "code", "column"),
    [
        ("@import url(https://evil.example/x.css);", "check.remote-resource", 15),
        ('@import "https://evil.example/x.css";', "check.remote-resource", 7),
        (".x { background: url('http://evil.example/b.png') }", "check.remote-resource", 24),
        ("</style><script>alert(1)</script>", "check.breakout", 7),
        (".x { width: expression(alert(1)) }", "check.script", 19),
    ],
)
def test_the_css_of_a_kept_note_type_is_checked_like_a_style_element(
    css: str, code: str, column: int, in_tmp: Path
) -> None:
    write_kept(in_tmp, css=css)
    problems = [p for p in validate([in_tmp / "kept.yaml"]).problems if p.code == code]
    assert [(p.line, p.column, p.severity) for p in problems] == [(24, column, "warning")]
    assert problems[0].message.startswith("the CSS of note type 'Theirs' ")
