"""``carbonmet users add|assign|key|list|disable|enable|revoke`` and ``carbonmet serve`` — users, roles and the web API.

Thin: parse, call :mod:`carbonmet.services` (or start the web app), render. The command line acts as the centre.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import DbOpt, console, fail, print_json, scope, use_case, workspace

app = typer.Typer(help="用户与角色 users, roles, verifier assignments and API keys (centre)", no_args_is_help=True)


@app.command("add")
def add_cmd(
    username: Annotated[str, typer.Argument(help="用户名 user name")],
    role: Annotated[str, typer.Option("--role", help="regulator | centre | verifier | enterprise")],
    org: Annotated[str | None, typer.Option("--org", help="企业用户所属单位 the enterprise of an enterprise user")] = None,
    name: Annotated[str | None, typer.Option("--name", help="显示名 display name")] = None,
    password: Annotated[str, typer.Option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
                                          envvar="CARBONMET_NEW_PASSWORD", help="口令 password (≥ 8 characters)")] = "",
    db: str | None = DbOpt,
) -> None:
    """新建用户 Create a user with a role (the password is stored as an Argon2id hash)."""
    from ..services import create_user

    made = use_case(db, None, create_user, username, password, role, org=org, display_name=name)
    console.print(f"已创建 created {made['username']} ({made['role']}{', ' + made['org_code'] if made['org_code'] else ''})")


@app.command("assign")
def assign_cmd(
    verifier: Annotated[str, typer.Argument(help="核查机构用户 verifier user")],
    org: Annotated[str, typer.Argument(help="企业 enterprise code")],
    db: str | None = DbOpt,
) -> None:
    """分配核查企业 Let a verifier read an enterprise."""
    from ..services import assign_verifier

    r = use_case(db, None, assign_verifier, verifier, org)
    console.print(f"{r['verifier']} → {r['org_code']}" + ("" if r["created"] else " (已分配 already assigned)"))


@app.command("key")
def key_cmd(
    username: Annotated[str, typer.Argument(help="用户名 user the key acts as")],
    label: Annotated[str, typer.Option("--label", help="用途 what the key is for")],
    as_json: Annotated[bool, typer.Option("--json", help="机器可读输出 machine-readable JSON")] = False,
    db: str | None = DbOpt,
) -> None:
    """创建接口密钥 A new API key for a user; it is shown this once only (send it as X-API-Key)."""
    from ..services import create_api_key

    r = use_case(db, None, create_api_key, username, label)
    if as_json:
        print_json(r)
        return
    console.print(f"密钥 key (仅显示一次 shown once): [bold]{r['key']}[/]", highlight=False)


def _set_active(username: str, active: bool, db: str | None) -> None:
    from ..services import set_user_active

    r = use_case(db, None, set_user_active, username, active)
    state = "启用 active" if active else "停用 inactive"
    console.print(f"{r['username']}: {state}" + ("" if r["changed"] else " (未变 unchanged)"))


@app.command("disable")
def disable_cmd(username: Annotated[str, typer.Argument(help="用户名 user name")], db: str | None = DbOpt) -> None:
    """停用用户 Deactivate a user: no sign-in, its tokens and keys refused from the next request."""
    _set_active(username, False, db)


@app.command("enable")
def enable_cmd(username: Annotated[str, typer.Argument(help="用户名 user name")], db: str | None = DbOpt) -> None:
    """启用用户 Reactivate a user."""
    _set_active(username, True, db)


@app.command("revoke")
def revoke_cmd(key_id: Annotated[str, typer.Argument(help="密钥编号 key id (users list shows them)")],
               db: str | None = DbOpt) -> None:
    """吊销接口密钥 Revoke an API key for good."""
    from ..services import revoke_api_key

    r = use_case(db, None, revoke_api_key, key_id)
    console.print(f"{r['key_id']} ({r['username']}): 已吊销 revoked" + ("" if r["revoked"] else " (之前已吊销 already)"))


@app.command("list")
def list_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="机器可读输出 machine-readable JSON")] = False,
    db: str | None = DbOpt,
) -> None:
    """用户列表 Users with role, enterprise, assignments and key ids."""
    from ..services import list_users

    with workspace(db) as ws:
        rows = list_users(ws, scope())
    if as_json:
        print_json(rows)
        return
    for r in rows:
        extra = r["org_code"] or ", ".join(r["assigned"]) or "—"
        console.print(f"{r['username']:20} {r['role']:10} {extra:20} keys {len(r['api_keys'])}"
                      + ("" if r["active"] else " (inactive)"), highlight=False)


def serve_cmd(
    host: Annotated[str, typer.Option("--host", help="监听地址 address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="端口 port")] = 8000,
    store: Annotated[Path | None, typer.Option("--store", help="读数存储目录 readings store "
                                                               "(default: $CARBONMET_STORE_ROOT or <home>/store)")] = None,
    db: str | None = DbOpt,
    workers: Annotated[int, typer.Option("--workers", min=1, max=8,
                                         help="工作进程数 uvicorn worker processes (each with its own caches)")] = 1,
) -> None:
    """启动网页服务 Serve the REST API (OpenAPI at /docs) with uvicorn."""
    import os

    import uvicorn

    from ..db import Settings
    from ..services import CarbonmetError
    from ..web import create_app, secret_for

    if workers > 1:  # each worker builds the app from the environment: pass the options on through it
        try:
            secret_for(workspace(db, store))  # the token key exists before the workers read it
        except CarbonmetError as exc:
            fail(str(exc), 2)
        if db:
            os.environ["CARBONMET_DATABASE_URL"] = db
        if store is not None:
            os.environ["CARBONMET_STORE_ROOT"] = str(store.absolute())
        uvicorn.run("carbonmet.web:app_from_environment", factory=True, workers=workers, host=host, port=port,
                    log_level="info")
        return
    ws = workspace(db, store if store is not None else Settings().readings_root)
    try:
        api = create_app(ws)
    except CarbonmetError as exc:
        fail(str(exc), 2)
    uvicorn.run(api, host=host, port=port, log_level="info")


def register(app_: typer.Typer) -> None:
    """Add ``users`` and ``serve`` to the ``carbonmet`` command."""
    app_.add_typer(app, name="users")
    app_.command("serve")(serve_cmd)
