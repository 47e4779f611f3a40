"""`python -m deckkit`."""

from deckkit.entry import main

main()
