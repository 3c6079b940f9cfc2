"""Rendering notes from an article and from the contributions of many (pure)."""
