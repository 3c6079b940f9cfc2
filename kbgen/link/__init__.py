"""Linking: the catalog, mentions found in each article, and what each source contributes to the notes of many (pure but for the catalog's YAML)."""
