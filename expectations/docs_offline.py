"""Great Expectations Data Docs that open offline and are the same for the same results.

GX's pages load Bootstrap, jQuery, Vega and fonts from CDNs and its logo from GX's web server, with the
build time in the logo's address (``logo-long.png?d=20241105T…``): the pages reached the network when
opened, and two builds of the same results differed. After a build, :func:`make_offline` rewrites every
page: a resource whose file GX also ships in the docs' ``static/`` folder (the logo) is taken from there;
any other script or style sheet from the network is dropped (the pages are static HTML: their text and
tables do not need them; GX's own style sheet in ``static/styles`` still applies), and a CSS ``url()``
of the network is ``none``. Links (``<a href>``) are left as they are: nothing loads until one is followed.
The time GX loaded each batch (``ge_load_time``, a batch marker) is left out of the results shown
(:func:`without_load_time`). What still differs between two validations of the same files is an input
of theirs: the time SUB006 compares ``submitted_at`` with (the clock at validation).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

_REMOTE = r"(?:https?:)?//"
_SCRIPT = re.compile(rf"<script\b[^>]*\bsrc\s*=\s*[\"']?{_REMOTE}[^>]*>\s*</script>\s*", re.IGNORECASE | re.DOTALL)
_LINK = re.compile(rf"<link\b[^>]*\bhref\s*=\s*[\"']?{_REMOTE}[^>]*>\s*", re.IGNORECASE)
_IMG_SRC = re.compile(rf"(<img\b[^>]*?\bsrc\s*=\s*)([\"'])({_REMOTE}[^\"']*)\2", re.IGNORECASE | re.DOTALL)
_CSS_URL = re.compile(rf"url\(\s*([\"']?)({_REMOTE}[^)\"']*)\1\s*\)", re.IGNORECASE)


def _local(url: str, page: Path, static: dict[str, Path]) -> str | None:
    """The shipped file of the same name as ``url``, relative to ``page``, or None."""
    name = url.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    found = static.get(name)
    return None if found is None else Path(os.path.relpath(found, page.parent)).as_posix()


def offline_page(text: str, page: Path, static: dict[str, Path]) -> str:
    """One page's HTML without resources from the network (see the module's docstring)."""
    text = _SCRIPT.sub("", text)
    text = _LINK.sub("", text)

    def image(match: re.Match[str]) -> str:
        local = _local(match.group(3), page, static)
        return f"{match.group(1)}{match.group(2)}{local or ''}{match.group(2)}"

    def css(match: re.Match[str]) -> str:
        local = _local(match.group(2), page, static)
        return f"url('{local}')" if local else "none"

    return _CSS_URL.sub(css, _IMG_SRC.sub(image, text))


def make_offline(root: Path) -> None:
    """Rewrite every HTML page of the Data Docs in ``root`` to load nothing from the network."""
    static = {p.name: p for p in sorted((root / "static").rglob("*")) if p.is_file()}
    for page in sorted(root.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        rewritten = offline_page(text, page, static)
        if rewritten != text:
            page.write_text(rewritten, encoding="utf-8")


def without_load_time(result: dict[str, Any]) -> dict[str, Any]:
    """A suite's result without the time its batch was loaded (``meta.batch_markers.ge_load_time``), which
    the pages would show; the result given is not changed."""
    meta = result.get("meta")
    if not isinstance(meta, dict):
        return result
    markers = meta.get("batch_markers")
    if not isinstance(markers, dict) or "ge_load_time" not in markers:
        return result
    kept = {k: v for k, v in markers.items() if k != "ge_load_time"}
    return {**result, "meta": {**meta, "batch_markers": kept}}
