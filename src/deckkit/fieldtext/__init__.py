"""Field text as Anki stores it: HTML markup rules, cloze deletions and media references."""
