"""Jinja templates compiled once; the CSS is inlined in every page so a page opens alone from disk."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup

from flows.report.fmt import LEVEL_LABEL, integer, num, predicate_class, short, signed

TEMPLATES = Path(__file__).with_name("templates")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(num=num, short=short, int=integer, signed=signed, pclass=predicate_class,
                       level=lambda lv: LEVEL_LABEL.get(lv, lv))
    env.globals["css"] = Markup((TEMPLATES / "style.css").read_text(encoding="utf-8"))
    return env


def template(name: str) -> Template:
    return environment().get_template(name)


def render_to(name: str, context: dict[str, Any], path: Path) -> None:
    path.write_text(template(name).render(context), encoding="utf-8")
