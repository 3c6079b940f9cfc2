"""Options from the command line and from `kbgen.yaml`.

`kbgen.yaml` is looked for in the current directory, or wherever `--config`
points. Paths in it are relative to the file's own folder. A command-line
option always wins over the file. Unknown keys are an error, not a silence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kbgen.core.errors import KbgenError

CONFIG_NAME = "kbgen.yaml"
_KEYS = {"sources", "vault", "catalogs", "follow_symlinks"}


@dataclass(frozen=True)
class Config:
    sources: Path = Path("sources")
    vault: Path = Path("vault")
    catalogs: tuple[Path, ...] = field(default_factory=tuple)
    follow_symlinks: bool = False


def _read(path: Path) -> dict[str, Any]:
    from kbgen.core import yamlio

    try:
        data = yamlio.load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise KbgenError(f"{path}: cannot read config ({exc.strerror})") from exc
    except yamlio.YAMLError as exc:
        raise KbgenError(f"{path}: config is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise KbgenError(f"{path}: config must be a mapping of options")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        options = "option" if len(unknown) == 1 else "options"
        raise KbgenError(
            f"{path}: unknown {options} {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}"
        )
    return data


def load(explicit: Path | None, overrides: dict[str, Any]) -> Config:
    """The file's options (if any), with command-line `overrides` on top."""
    path = explicit or (Path.cwd() / CONFIG_NAME)
    data: dict[str, Any] = {}
    base = Path.cwd()
    if explicit is not None or path.is_file():
        data = _read(path)
        base = path.parent
    for key in ("sources", "vault"):
        if key in data:
            data[key] = base / str(data[key])
    if "catalogs" in data:
        items = data["catalogs"] if isinstance(data["catalogs"], list) else [data["catalogs"]]
        data["catalogs"] = tuple(base / str(p) for p in items)
    data.update({k: v for k, v in overrides.items() if v is not None})
    return Config(**data)
