"""The I/O floor: read every source and write the same bytes into a fresh folder.

What any tool that turns N files into N files must at least do, in the
plainest Python: no parsing, no hashing, no fsync. Usage: floor.py SOURCES OUT
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(sources: Path, out: Path) -> int:
    count = 0
    for dirpath, _dirs, files in os.walk(sources):
        target = out / Path(dirpath).relative_to(sources)
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as src:
                data = src.read()
            with open(target / name, "wb") as dst:
                dst.write(data)
            count += 1
    print(f"floor: copied {count} files", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
