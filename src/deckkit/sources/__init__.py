"""Card sources: find them (discovery), read them with positions (loader), check them against the
schema (schema) and deckkit's own rules (checks); ``validation`` runs all of it."""
