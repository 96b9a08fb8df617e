"""Designsystemet's CSS (npm @digdir/designsystemet-css and -theme), served from node_modules.

`make run` and `make test` run `npm ci`; without the files the portal works unstyled, and says so once
in the log.
"""

from __future__ import annotations

import logging
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

log = logging.getLogger("portvakt.portal")
#: URL name -> file inside node_modules.
FILES = {
    "designsystemet.css": Path("@digdir/designsystemet-css/dist/src/index.css"),
    "theme.css": Path("@digdir/designsystemet-theme/brand/altinn.css"),
}
STATIC_PATH = "/static/ds/"


def _candidates(configured: Path | None) -> list[Path]:
    """node_modules folders to look in: the configured folder, the working directory, the source tree's parents."""
    found: list[Path] = []
    if configured is not None:
        found += [configured / "node_modules", configured]
    found.append(Path.cwd() / "node_modules")
    found += [parent / "node_modules" for parent in Path(__file__).resolve().parents]
    return found


def find_assets(configured: Path | None) -> dict[str, Path]:
    """The Designsystemet files by URL name, from the first node_modules that has them all."""
    for folder in _candidates(configured):
        files = {name: folder / rel for name, rel in FILES.items()}
        if all(p.is_file() for p in files.values()):
            return files
    log.warning("Designsystemet CSS not found (run `npm ci` in the project folder, or set "
                "PORTVAKT_PORTAL__ASSETS_DIR); the portal works, unstyled")
    return {}


class DesignAssets:
    """Serves the found files at /static/ds/<name>; their URLs go into every page's <head>."""

    def __init__(self, files: dict[str, Path]) -> None:
        self._files = files

    def stylesheets(self) -> list[str]:
        """Paths below the portal, theme first (it defines the variables the components use)."""
        return [STATIC_PATH + name for name in ("theme.css", "designsystemet.css") if name in self._files]

    async def serve(self, request: Request) -> Response:
        """One of the files, cached for an hour; 404 for anything else."""
        path = self._files.get(request.path_params["name"])
        if path is None:
            raise HTTPException(404)
        return FileResponse(path, media_type="text/css", headers={"cache-control": "public, max-age=3600"})
