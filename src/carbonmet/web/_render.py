"""What the pages share: the Jinja2 environment, the zh-CN/English messages, number formatting, chart options
and the in-process cache of accounts (页面渲染)."""

from __future__ import annotations

import csv
import json
import math
import threading
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, Undefined, select_autoescape
from markupsafe import Markup

LANGS = ("zh", "en")
LANG_COOKIE = "carbonmet_lang"


def _messages() -> dict[str, dict[str, str]]:
    text = resources.files("carbonmet.web").joinpath("templates/messages.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    return {lang: {r["key"]: r[lang] for r in rows} for lang in LANGS}


MESSAGES = _messages()


def translator(lang: str) -> Callable[[str], str]:
    """``t(key)``: the message in ``lang`` (zh-CN first; an unknown key shows itself, so a gap is visible)."""
    table = MESSAGES.get(lang, MESSAGES["zh"])
    return lambda key: table.get(key, key)


def finite(v: Any) -> float | None:
    """``v`` as a float, or None when missing, undefined in a template, not a number or not finite."""
    if v is None or isinstance(v, Undefined | bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def fmt(value: Any, digits: int = 0) -> str:
    """A number with thousands separators; ``—`` for a missing or non-finite one."""
    v = finite(value)
    return "—" if v is None else f"{v:,.{digits}f}"


def sig(value: Any, digits: int = 3) -> str:
    """A number to ``digits`` significant figures (small figures such as kgCO2e/kg)."""
    v = finite(value)
    if v is None:
        return "—"
    return f"{v:.{digits}g}" if abs(v) < 1e4 else fmt(v)


def pct(value: Any, digits: int = 1, *, fraction: bool = False) -> str:
    """A percentage (``fraction=True``: the value is a fraction of 1)."""
    v = finite(value)
    return "—" if v is None else f"{v * (100 if fraction else 1):.{digits}f} %"


def chart(option: dict[str, Any], *, height: int = 320, name: str = "chart") -> Markup:
    """A ``<div>`` that ``static/charts.js`` turns into an ECharts chart with ``option``."""
    data = json.dumps(option, ensure_ascii=False, allow_nan=False, default=str)
    data = data.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e").replace("'", "\\u0027")
    return Markup(f"<div class=\"chart\" data-chart-name=\"{name}\" style=\"height:{height}px\" "
                  f"data-chart='{data}'></div>")


def environment() -> Environment:
    """The pages' Jinja2 environment (templates packaged in ``carbonmet.web/templates``, HTML autoescaped)."""
    env = Environment(loader=PackageLoader("carbonmet.web", "templates"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    env.globals.update(fmt=fmt, pct=pct, sig=sig, chart=chart)
    return env


class ResultCache:
    """Results (accounts) computed with a caller's scope, kept in process for ``ttl`` seconds per key.

    Pages look a key up only after the caller's own scope has admitted the enterprise (``list_organisations``
    with that scope), so the cache never widens what a caller reads. Uploads clear it.
    """

    def __init__(self, ttl: float = 600.0) -> None:
        self.ttl = ttl
        self._items: dict[tuple[Any, ...], tuple[float, Any]] = {}
        self._locks: dict[tuple[Any, ...], threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # one computation per key at a time; the others wait for its result
            hit = self._items.get(key)
            if hit is not None and time.monotonic() - hit[0] < self.ttl:
                return hit[1]
            value = compute()
            self._items[key] = (time.monotonic(), value)
            return value

    def clear(self) -> None:
        with self._guard:
            self._items.clear()
