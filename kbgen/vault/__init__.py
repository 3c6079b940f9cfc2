"""The vault's files: what is there, what to write (merged with the user's edits), and writing it crash-safely."""
