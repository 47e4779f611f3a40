""" "Did you mean …?": the name a person most likely meant, for every name deckkit does not know
(keys, card types, levels, note types, field and template names, media files).

The same name in another case wins (``Front`` is ``front``, ``Three-Way-Merge.png`` is
``three-way-merge.png``), then the closest near miss by :func:`difflib.get_close_matches`
(``frnot`` is ``front``). Comparing two names takes the product of their lengths, and a stranger's
deck may hold millions of unknown names, so long names get no hint, only so many candidates are
compared, and :class:`Hints` works out only so many per source.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

_LONGEST = 100  # longer names get no hint
_CANDIDATES = 2_000  # candidates compared, at most
_HINTS = 200  # hints worked out per source by one Hints


def closest(name: str, candidates: Sequence[str]) -> str | None:
    """The candidate ``name`` most likely meant, or None when none is close."""
    if len(name) > _LONGEST:
        return None
    short = [c for c in candidates[:_CANDIDATES] if len(c) <= _LONGEST and c != name]
    folded = name.casefold()
    same_but_case = [c for c in short if c.casefold() == folded]
    if same_but_case:
        return same_but_case[0]
    by_folded = {c.casefold(): c for c in reversed(short)}  # the first spelling of each wins
    close = difflib.get_close_matches(folded, list(by_folded), n=1)
    return by_folded[close[0]] if close else None


def did_you_mean(name: str, candidates: Sequence[str]) -> str:
    """ " (did you mean 'X'?)" for the candidate closest to ``name``, or ""."""
    return meant(closest(name, candidates))


def meant(found: str | None) -> str:
    """ " (did you mean 'X'?)" for a name found by :func:`closest`, or "" for none."""
    return f" (did you mean '{found}'?)" if found is not None else ""


class Hints:
    """ "did you mean" for names not found in one source: each worked out once, and only so many."""

    def __init__(self) -> None:
        self._known: dict[tuple[int, str], str | None] = {}
        # The candidate lists are known by their identity: kept alive here, so that no other
        # list can take the identity of one that is gone.
        self._candidates: dict[int, Sequence[str]] = {}
        self._left = _HINTS

    def take(self) -> bool:
        """Whether another hint may be worked out, counting it (one that needs a folder listed,
        say, and is not kept: see :meth:`closest`)."""
        self._left -= 1
        return self._left >= 0

    def closest(self, name: str, candidates: Sequence[str]) -> str | None:
        """The candidate closest to ``name`` (see :func:`closest`), or None; the same
        ``candidates`` (the same object, left unchanged) give each name's answer once."""
        key = (id(candidates), name)
        if key not in self._known:
            if not self.take():
                return None
            self._candidates[id(candidates)] = candidates
            self._known[key] = closest(name, candidates)
        return self._known[key]

    def __call__(self, name: str, candidates: Sequence[str]) -> str:
        """ " (did you mean 'X'?)" for the candidate closest to ``name``, or ""."""
        return meant(self.closest(name, candidates))


__all__ = ["Hints", "closest", "did_you_mean", "meant"]
