"""One build, start to end: listing, the shortcuts (snapshot, quick path), reading, choosing the notes to render, writing, reporting."""
