"""Reading a source: bytes to text, the page's furniture set aside, metadata as stated (pure but for the read)."""
