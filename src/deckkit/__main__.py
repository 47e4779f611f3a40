"""`python -m deckkit`."""

from deckkit.cli.entry import main

main()
