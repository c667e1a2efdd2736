"""`vigil user ...` (review-app accounts) and `vigil audit ...` (the tamper-evident audit chain)."""

from __future__ import annotations

import json
import sys

import click

from vigil.cli import Context, common
from vigil.core.errors import VigilError


@click.group("user")
def user_group() -> None:
    """Accounts for the review web app (admin, reviewer, analyst)."""


def _read_password(name: str) -> str:
    """From the terminal (asked twice, not echoed), or the first line of stdin when it is not a terminal."""
    if sys.stdin.isatty():
        return str(click.prompt(f"password for {name}", hide_input=True, confirmation_prompt=True))
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise VigilError("no password on stdin")
    return line


@user_group.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["admin", "reviewer", "analyst"]))
@common
def user_add(obj: Context, name: str, role: str) -> None:
    """Create an account; the password is prompted for, or read from stdin."""
    from vigil.store import audit
    from vigil.store.users import add_user

    password = _read_password(name)
    with obj.store() as store, store.transaction() as session:
        audit.append(session, audit.Event(audit.cli_actor(), "user.add", f"user:{name}", {"role": role}))
        user = add_user(session, name, role, password)
    if obj.as_json:
        click.echo(json.dumps({"id": user.id, "name": user.name, "role": user.role}))
    else:
        obj.say(f"user {name!r} added as {role}")


@user_group.command("list")
@common
def user_list(obj: Context) -> None:
    """List accounts with role and lock state."""
    from sqlalchemy import select

    from vigil.store.models import User

    with obj.store() as store, store.session() as session:
        users = session.scalars(select(User).order_by(User.name)).all()
        rows = [
            {
                "name": u.name,
                "role": u.role,
                "failed_logins": u.failed_logins,
                "locked_until": u.locked_until.isoformat() if u.locked_until else None,
                "disabled": u.disabled_at is not None,
            }
            for u in users
        ]
    if obj.as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        state = "disabled" if r["disabled"] else ("locked" if r["locked_until"] else "")
        click.echo(f"{r['name']}\t{r['role']}\t{state}".rstrip())


@user_group.command("unlock")
@click.argument("name")
@common
def user_unlock(obj: Context, name: str) -> None:
    """Clear an account's failed-login lock."""
    _change_user(obj, name, "user.unlock")


@user_group.command("disable")
@click.argument("name")
@common
def user_disable(obj: Context, name: str) -> None:
    """Disable an account and end its sessions."""
    _change_user(obj, name, "user.disable")


@user_group.command("passwd")
@click.argument("name")
@common
def user_passwd(obj: Context, name: str) -> None:
    """Set a new password (prompted, or read from stdin); ends the account's sessions."""
    _change_user(obj, name, "user.passwd", _read_password(name))


def _change_user(obj: Context, name: str, action: str, password: str | None = None) -> None:
    from sqlalchemy import delete, select

    from vigil.core.clock import utcnow
    from vigil.store import audit
    from vigil.store.models import User, UserSession
    from vigil.store.users import hash_password

    with obj.store() as store, store.transaction() as session:
        audit.append(session, audit.Event(audit.cli_actor(), action, f"user:{name}"))
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            raise VigilError(f"no user named {name!r}")
        if action == "user.unlock":
            user.failed_logins, user.locked_until = 0, None
        elif action == "user.disable":
            user.disabled_at = user.disabled_at or utcnow()
        elif password is not None:
            user.password_hash = hash_password(password)
            user.failed_logins, user.locked_until = 0, None
        if action != "user.unlock":
            session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    obj.say(f"{action.split('.')[1]}: {name}")


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit chain."""


@audit_group.command("verify")
@click.option("--expect", default=None, help="A head hash recorded earlier: it must still be in the chain.")
@common
def audit_verify(obj: Context, expect: str | None) -> None:
    """Recompute the chain; exit status 1 and the broken rows if anything was edited, deleted or reordered."""
    from vigil.store import audit

    with obj.store() as store:
        report = audit.verify(store, expect=expect)
    if obj.as_json:
        click.echo(
            json.dumps(
                {
                    "ok": report.ok,
                    "rows": report.rows,
                    "head_id": report.head_id,
                    "head_hash": report.head_hash,
                    "problems": report.problems,
                }
            )
        )
    else:
        for text in report.problems:
            click.echo(text, err=True)
        click.echo(f"{report.rows} rows; head {report.head_id} {report.head_hash}")
    if not report.ok:
        raise click.exceptions.Exit(1)
    obj.say("audit chain intact")


@audit_group.command("list")
@click.option("--last", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--action", default=None, help="Only this action (e.g. login, grade, export, api.lookup).")
@common
def audit_list(obj: Context, last: int, action: str | None) -> None:
    """Print the newest audit rows."""
    from sqlalchemy import select

    from vigil.store import audit
    from vigil.store.models import Audit

    with obj.store() as store, store.session() as session:
        query = select(Audit).order_by(Audit.id.desc()).limit(last)
        if action:
            query = query.where(Audit.action == action)
        rows = audit.events_of(reversed(session.scalars(query).all()))
    if obj.as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        details = json.dumps(r["details"], sort_keys=True) if r["details"] else ""
        click.echo(
            f"{r['id']}\t{r['at']}\t{r['actor']}\t{r['action']}\t{r['target'] or ''}\t{details}".rstrip()
        )
