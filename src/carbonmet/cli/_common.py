"""Small helpers shared by the CLI modules: JSON output and error reporting."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def print_json(obj: Any) -> None:
    """Print one JSON document to stdout (UTF-8, Chinese kept readable)."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an error (zh-CN first, English second where the caller gives both) and exit."""
    err_console.print(f"[bold red]错误 error:[/] {message}")
    raise typer.Exit(code)
