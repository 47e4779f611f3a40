"""`deckkit watch`: build, serve the preview, and build again on every save until Ctrl-C."""

from __future__ import annotations

import errno
import signal
import threading
import time
import webbrowser
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import click

from deckkit.cli import interrupt
from deckkit.cli.advice import advised
from deckkit.cli.build import summary as build_summary
from deckkit.cli.common import (
    CLOCK_BEHIND,
    EXIT_CLEAN,
    PATHS,
    QUIET,
    STRICT,
    VERBOSE,
    VERBOSITY,
    level,
    lockfile_option,
    output_option,
)
from deckkit.cli.preview import DEFAULT_OUTPUT as PREVIEW_OUTPUT
from deckkit.cli.projects import (
    FORMATS,
    build_defaults,
    chosen_formats,
    current_project,
    option_or,
    project_sources,
    say_defaults,
)
from deckkit.cli.reporters import reporter_for
from deckkit.cli.terminal import echo_lines, echo_styled
from deckkit.errors import DeckkitError, UsageError
from deckkit.pipeline import BuildResult, build
from deckkit.preview import PreviewResult, write_preview
from deckkit.preview.server import PreviewServer
from deckkit.problems import Problem, display_path
from deckkit.sources.rereading import keep_reads
from deckkit.watching import Builds, FileSaves, changes, preview, watched_folders

DEFAULT_PORT = 8000
SHOWN_CHANGES = 3  # files named in a change's line; more are counted


@click.command("watch")
@PATHS
@output_option(Path("build"), "Folder for the outputs; the preview goes to its preview/ folder.")
@FORMATS
@lockfile_option("Modification times of every note, updated by each build as by 'deckkit build'.")
@CLOCK_BEHIND
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help=f"Port of the preview on 127.0.0.1 (default: {DEFAULT_PORT}, or a free one if it is "
    "taken; 0: any free port).",
)
@click.option(
    "--open",
    "open_browser",
    is_flag=True,
    help="Open the preview in the web browser once it is served.",
)
@STRICT
@VERBOSITY
def watch_command(
    paths: tuple[Path, ...],
    output_dir: Path,
    formats: tuple[str, ...],
    lockfile: Path,
    clock_behind: bool,
    port: int | None,
    open_browser: bool,
    strict: bool,
    verbosity: int | None,
) -> int:
    """Build, serve the preview, and build again whenever a source, media file or template is
    saved, until Ctrl-C.

    PATHS are files or folders of sources (default: the project's); their folders are watched,
    media, template, CSS and note-type files included. Each save rebuilds the preview first, then
    the decks that changed, as 'deckkit build' would, and prints only what changed and any
    problems. A save with errors prints them and writes nothing: the last good outputs and preview
    stay until the next good save. The preview is served on http://127.0.0.1:PORT/ only, and an
    open page reloads itself when it changes. Ctrl-C stops watching (exit status 0).

    \b
    Examples:
      deckkit watch                        # then open the address it prints
      deckkit watch --open                 # and open it in the web browser
      deckkit watch sources/biology.yaml --port 8080
      deckkit watch --format apkg -q       # .apkg only; print errors only
    """
    shown = level(verbosity)
    keep_reads()  # each save's sources are read again where they changed only
    project = current_project()
    sources = project_sources(project, paths)
    output_dir = option_or("output_dir", output_dir, project.output)
    lockfile = option_or("lockfile", lockfile, project.lockfile)
    preview_dir = output_dir / PREVIEW_OUTPUT.name
    if shown != QUIET:
        say_defaults(project, build_defaults(project, paths, output_dir, lockfile))
    try:
        folders = watched_folders(sources)
    except UsageError as error:
        raise click.UsageError(advised(error)) from None
    build_decks = partial(
        build,
        sources,
        output_dir,
        formats=chosen_formats(project, formats),
        lockfile=lockfile,
        clock_behind=clock_behind,
        strict=strict or project.strict,
        markdown=project.markdown,
    )
    write_page = partial(
        write_preview,
        sources,
        preview_dir,
        strict=strict or project.strict,
        markdown=project.markdown,
    )
    server = _serve(preview_dir, port)
    stop = threading.Event()
    # The settings are read once: a changed project file is noticed and asks for a restart.
    project_saves = FileSaves(project.file, stop=stop) if project.file else None
    watcher = _Watcher(shown, server, write_page, preview_dir)
    builds = Builds(build_decks)
    started = False
    try:
        for changed in changes(sources, ignored=[output_dir, lockfile], stop=stop):
            if project_saves is not None and project_saves.changed():
                _say_restart(project_saves.file)
            if not started:
                # The first build, once watching has begun (a save during it is built next), is
                # awaited: the preview's address is given once there is something to see.
                if watcher.preview(changed=()):
                    watcher.build(builds)
                    watcher.collect(builds, wait=True)
                server.start()
                started = True
                if open_browser:
                    webbrowser.open(server.url)  # the system's browser ($BROWSER if set)
                if shown != QUIET:
                    where = ", ".join(f"{display_path(f)}/" for f in folders)
                    echo_lines(
                        [
                            f"preview: {server.url} (reloads itself on every change)",
                            f"watching {where} for changes; Ctrl-C to stop",
                        ]
                    )
                continue
            if changed and watcher.preview(changed=changed):
                watcher.build(builds)
            watcher.collect(builds)
    except KeyboardInterrupt:
        if interrupt.received_signal() not in (None, signal.SIGINT):
            # SIGTERM or SIGHUP, which watchfiles reports as a KeyboardInterrupt: ended as any
            # command is (deckkit.cli.entry).
            raise interrupt.Terminated from None
        # Ctrl-C is how watching ends, not a failure; every output was written atomically.
        if shown != QUIET:
            echo_lines(["", "stopped watching"], err=True)
        return EXIT_CLEAN
    finally:
        stop.set()
        builds.stop()  # a build under way ends first: its outputs are then complete
        server.close()
    return EXIT_CLEAN  # pragma: no cover - the watcher only ends with Ctrl-C or a signal


def _say_restart(project_file: Path) -> None:
    echo_styled(
        [
            [
                ("note:", "warning"),
                (
                    f" {display_path(project_file)} changed; watch goes on with the settings it "
                    "started with: restart it (Ctrl-C, then 'deckkit watch') to use the new ones",
                    "",
                ),
            ]
        ],
        err=True,
    )


def _serve(preview_dir: Path, port: int | None) -> PreviewServer:
    """The preview's server on ``port`` (DEFAULT_PORT, or any free port when that is taken)."""
    try:
        return PreviewServer(preview_dir, port=DEFAULT_PORT if port is None else port)
    except OSError as error:
        if port is None and error.errno == errno.EADDRINUSE:
            return PreviewServer(preview_dir, port=0)
        raise click.UsageError(
            f"cannot serve the preview on 127.0.0.1:{port}: {error.strerror}; choose another "
            "port with --port (0: any free port)"
        ) from None


class _Watcher:
    """Prints what each save changed in the preview and the decks, and the problems, saying each
    warning once."""

    def __init__(
        self,
        verbosity: int,
        server: PreviewServer,
        write_page: Callable[[], PreviewResult],
        preview_dir: Path,
    ) -> None:
        self.verbosity = verbosity
        self.server = server
        self.write_page = write_page
        self.preview_dir = preview_dir
        self.warned: set[tuple[str, str, str]] = set()  # warnings already printed
        self.said: list[str] = []  # the last build summary printed
        self.preview_state = ""  # the preview's files as last written (watching.folder_state)
        self.failed = False  # whether the last preview or build found errors
        self.built_once = False

    def preview(self, *, changed: Sequence[Path]) -> bool:
        """Write the preview again for ``changed`` (everything on the first round) and say what
        happened, if anything did (a file saved unchanged says nothing); True unless the sources
        have errors."""
        try:
            previewed = preview(
                self.write_page,
                preview_dir=self.preview_dir,
                state=self.preview_state,
                on_change=self.server.changed,
            )
        except DeckkitError as error:  # the next save may fix it (a folder made writable)
            self._header(changed)
            self._error(error)
            return False
        page_changed = previewed.state != self.preview_state
        self.preview_state = previewed.state
        problems = self._news(previewed.problems)
        lines = ["preview updated"] if page_changed and changed else []
        if problems or (lines and self.verbosity != QUIET):
            self._header(changed)
            reporter = reporter_for("text", self.verbosity)
            reporter.problems(problems)
            if not previewed.ok:
                echo_styled(
                    [[("not rebuilt:", "error"), (" the last good outputs and preview stay", "")]],
                    err=True,
                )
            reporter.summary(lines)
        self.failed = self.failed or not previewed.ok
        return previewed.ok

    def build(self, builds: Builds) -> None:
        """Build the decks (in the background where the platform allows)."""
        try:
            built = builds.request()
        except DeckkitError as error:
            self._error(error)
            return
        if built is not None:
            self._built(built)

    def collect(self, builds: Builds, *, wait: bool = False) -> None:
        """Say what the build that ended did, if one did (``wait``: once it ends)."""
        try:
            built = builds.finished(wait=wait)
        except DeckkitError as error:
            self._error(error)
            return
        if built is not None:
            self._built(built)

    def _built(self, built: BuildResult) -> None:
        # The whole summary the first time and after errors (a good build always says so then,
        # even when it rewrote nothing).
        full = not self.built_once or self.failed
        lines = self._summary(built, full=full) if built.ok else []
        self.built_once = True
        self.failed = not built.ok
        reporter = reporter_for("text", self.verbosity)
        reporter.problems(self._news(built.problems))
        if not built.ok:
            echo_styled(
                [[("decks not rebuilt:", "error"), (" their last good outputs stay", "")]],
                err=True,
            )
        reporter.summary(lines)

    def _header(self, changed: Sequence[Path]) -> None:
        if changed and self.verbosity != QUIET:
            echo_lines([f"{time.strftime('%H:%M:%S')} changed: {_listed(changed)}"])

    def _error(self, error: DeckkitError) -> None:
        self.failed = True
        echo_styled([[("error:", "error"), (f" {advised(error)}", "")]], err=True)

    def _summary(self, built: BuildResult, *, full: bool) -> list[str]:
        """The build's summary (as 'deckkit build' prints it) when ``full``, else each deck
        written and what else differs from the last summary (not the same note on Quizlet's
        separators after every save); none under -q."""
        if self.verbosity == QUIET or not (full or built.written or self.verbosity == VERBOSE):
            return []
        lines = build_summary(built, self.verbosity)
        new = [line for line in lines if line.startswith("wrote ") or line not in self.said]
        self.said = lines
        return lines if full or self.verbosity == VERBOSE else new

    def _news(self, problems: Sequence[Problem]) -> list[Problem]:
        """Every error, and the warnings not printed before (-v: every warning; -q: none)."""
        fresh = []
        for problem in problems:
            key = (problem.path, problem.message, problem.code)  # lines move as one types
            if problem.severity == "error" or (
                self.verbosity != QUIET and (self.verbosity == VERBOSE or key not in self.warned)
            ):
                fresh.append(problem)
            if problem.severity != "error":
                self.warned.add(key)
        return fresh


def _listed(paths: Sequence[Path]) -> str:
    names = [display_path(path) for path in paths[:SHOWN_CHANGES]]
    more = len(paths) - SHOWN_CHANGES
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")
