"""kbgen: turn a folder of articles into a linked Obsidian vault."""

__version__ = "0.1.0"
