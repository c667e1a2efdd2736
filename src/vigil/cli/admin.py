"""`vigil user ...` (review-app accounts), `vigil apikey ...` (platforms' keys), `vigil audit ...` (the
tamper-evident audit chain) and `vigil retract`: administering the store."""

from __future__ import annotations

import json
import sys

import click

from vigil.cli.context import Context, common, sync_index
from vigil.core.errors import VigilError


@click.group("user")
def user_group() -> None:
    """Accounts for the review web app (admin, reviewer, analyst)."""


def read_password(name: str) -> str:
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
    from vigil.store.users import add_user, user_name

    name = user_name(name)  # folded, checked: refused before a password is asked for
    password = read_password(name)
    with obj.store() as store, store.transaction() as session:
        audit.append(session, audit.Event(audit.cli_actor(), "user.add", f"user:{name}", {"role": role}))
        user = add_user(session, name, role, password)
    obj.emit(
        {"id": user.id, "name": user.name, "role": user.role}, f"user {name!r} added as {role}", indent=None
    )


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

    def table() -> None:
        for r in rows:
            state = "disabled" if r["disabled"] else ("locked" if r["locked_until"] else "")
            click.echo(f"{r['name']}\t{r['role']}\t{state}".rstrip())

    obj.emit(rows, table)


@user_group.command("unlock")
@click.argument("name")
@common
def user_unlock(obj: Context, name: str) -> None:
    """Clear an account's failed-login lock."""
    change_user(obj, name, "user.unlock")


@user_group.command("disable")
@click.argument("name")
@common
def user_disable(obj: Context, name: str) -> None:
    """Disable an account and end its sessions."""
    change_user(obj, name, "user.disable")


@user_group.command("passwd")
@click.argument("name")
@common
def user_passwd(obj: Context, name: str) -> None:
    """Set a new password (prompted, or read from stdin); ends the account's sessions."""
    change_user(obj, name, "user.passwd", read_password(name))


def change_user(obj: Context, name: str, action: str, password: str | None = None) -> None:
    from sqlalchemy import delete

    from vigil.core.clock import utcnow
    from vigil.store import audit
    from vigil.store.models import UserSession
    from vigil.store.users import find_user, hash_password

    with obj.store() as store, store.transaction() as session:
        user = find_user(session, name)
        if user is None:
            raise VigilError(f"no user named {name!r}")
        audit.append(session, audit.Event(audit.cli_actor(), action, f"user:{user.name}"))
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

    def lines() -> None:
        for text in report.problems:
            click.echo(text, err=True)
        click.echo(f"{report.rows} rows; head {report.head_id} {report.head_hash}")

    data = {
        "ok": report.ok,
        "rows": report.rows,
        "head_id": report.head_id,
        "head_hash": report.head_hash,
        "problems": report.problems,
    }
    obj.emit(data, lines, indent=None)
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

    def table() -> None:
        for r in rows:
            details = json.dumps(r["details"], sort_keys=True) if r["details"] else ""
            click.echo(
                f"{r['id']}\t{r['at']}\t{r['actor']}\t{r['action']}\t{r['target'] or ''}\t{details}".rstrip()
            )

    obj.emit(rows, table)


@click.group("apikey")
def apikey_group() -> None:
    """Keys platforms use to call the matching API."""


@apikey_group.command("create")
@click.argument("name")
@click.option(
    "--scopes", default="lookup", show_default=True, help="Comma-separated: lookup, submit, changes."
)
@click.option(
    "--rate-limit", type=click.IntRange(min=0), default=100, show_default=True, help="Requests/s; 0 = none."
)
@common
def apikey_create(obj: Context, name: str, scopes: str, rate_limit: int) -> None:
    """Create a key and print it once (only its SHA-256 is kept)."""
    from vigil.store import apikeys, audit

    wanted = sorted({s.strip() for s in scopes.split(",") if s.strip()})
    if not wanted or any(s not in apikeys.SCOPES for s in wanted):
        raise click.BadParameter(f"scopes must be among {', '.join(apikeys.SCOPES)}", param_hint="--scopes")
    with obj.store() as store, store.transaction() as session:
        details = {"scopes": wanted, "rate_limit": rate_limit}
        audit.append(session, audit.Event(audit.cli_actor(), "apikey.create", f"apikey:{name}", details))
        key = apikeys.create_key(session, name, wanted, rate_limit)

    def lines() -> None:
        click.echo(key)
        obj.say(f"API key {name!r} ({', '.join(wanted)}, {rate_limit or 'no'} requests/s): shown only now")

    obj.emit({"name": name, "key": key, "scopes": wanted, "rate_limit": rate_limit}, lines, indent=None)


@apikey_group.command("revoke")
@click.argument("name")
@common
def apikey_revoke(obj: Context, name: str) -> None:
    """Revoke a key: its calls are refused from now on."""
    from vigil.store import apikeys, audit

    with obj.store() as store, store.transaction() as session:
        audit.append(session, audit.Event(audit.cli_actor(), "apikey.revoke", f"apikey:{name}"))
        apikeys.revoke_key(session, name)
    obj.say(f"revoked {name!r}")


@click.command("retract")
@click.argument("entries", nargs=-1, required=True)
@click.option("--restore", is_flag=True, help="Make retracted entries active again.")
@common
def retract_cmd(obj: Context, entries: tuple[str, ...], restore: bool) -> None:
    """Retract known entries (they stop matching and leave exports), by id or as SIGNAL:HEX."""
    from vigil import signals
    from vigil.store import audit
    from vigil.store.bulk import lookup_signal_owners
    from vigil.store.entries import set_status

    with obj.store() as store:
        with store.transaction() as session:
            ids: list[int] = []
            for text in entries:
                if text.isdigit():
                    ids.append(int(text))
                    continue
                name, _, value = text.partition(":")
                try:
                    raw = signals.get(name).parse(value)
                except (KeyError, ValueError) as exc:
                    raise click.BadParameter(f"{text}: {exc}", param_hint="ENTRIES") from None
                owner = lookup_signal_owners(session.connection(), name, [raw]).get(raw)
                if owner is None:
                    raise click.BadParameter(f"{text}: no such hash in the store", param_hint="ENTRIES")
                ids.append(owner)
            changed = set_status(session, ids, "active" if restore else "retracted")
            action, details = ("entry.restore" if restore else "entry.retract"), {"requested": list(entries)}
            events = [audit.Event(audit.cli_actor(), action, f"entry:{i}", details) for i in changed]
            audit.append(session, events)  # with the change itself: no entry stops matching untraced
        sync_index(obj, store)
    verb = "restored" if restore else "retracted"
    obj.emit({"changed": changed}, f"{verb} {len(changed)} entries", indent=None)
