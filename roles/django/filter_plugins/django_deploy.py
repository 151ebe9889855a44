"""The django role's rules for a deploy, as Python: the application's environment, the
name of a release's virtualenv, what pruning removes, why a switch failed, and which
backup a restore takes and whether the database it left fits the release, and which
release a rollback goes back to. YAML wires them
(vars/main.yml, validate.yml, prune.yml); tests/unit/django/test_django_deploy.py
tests them.
"""

import base64
import datetime
import hashlib
import ipaddress
import json
import os
import re
import sys
from urllib.parse import quote

# The settings layer's list of overrides, from the layer itself.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "files"))
from django_stack_settings import OVERRIDES as LAYER_OVERRIDES  # noqa: E402
del sys.path[0]

# Names a shell and systemd's EnvironmentFile both take.
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A value is written between single quotes, on one line.
UNSAFE_VALUE = re.compile(r"['\n]")
DB_KEYS = ("engine", "name", "user", "password", "host", "port")


def django_env(base, db, style, url_env, discrete_env, extra=None):
    """Every variable the application sees (but the secret key).

    base: the DJANGO_* variables, ready; db: engine, name, user, password, host, port;
    style: 'url' (one variable url_env holding a database URL) or 'discrete' (one
    variable per key of db, named by discrete_env); extra: django_extra_env, last, so
    that it can override anything.
    """
    env = dict(base)
    if style == "url":
        scheme = "postgres" if db["engine"] == "postgresql" else "mysql"
        # quote() with "/" safe, as Jinja's urlencode filter did before this was Python:
        # the same settings give the same file, so an upgrade restarts nothing.
        env[url_env] = "{}://{}:{}@{}:{}/{}".format(
            scheme, quote(str(db["user"]), safe="/"), quote(str(db["password"]), safe="/"),
            db["host"], db["port"], db["name"],
        )
    else:
        env.update({discrete_env[key]: str(db[key]) for key in discrete_env})
    env.update(extra or {})
    return env


def django_settings_layer_env(project_settings, keep, db, lib_dir, health_path=""):
    """The variables the settings layer (files/django_stack_settings.py) reads, when it
    is on: Django loads the layer, which loads project_settings and sets over it every
    override but those in keep. The database goes in under the layer's own names, so
    the project's (django_db_settings_style) stay as they are."""
    on = [name for name in LAYER_OVERRIDES if name not in keep]
    env = {
        "DJANGO_SETTINGS_MODULE": "django_stack_settings",
        "DJANGO_STACK_PROJECT_SETTINGS": project_settings,
        "DJANGO_STACK_OVERRIDES": ",".join(on),
        "DJANGO_STACK_HEALTH_PATH": health_path,
        "PYTHONPATH": lib_dir,
    }
    if "database" in on:
        env.update({"DJANGO_STACK_DB_" + key.upper(): str(db[key]) for key in DB_KEYS})
    return env


def django_env_unsafe(env):
    """The names in env that cannot be written safely: a value holding a single quote or
    a new line, or a name that is not a shell variable's."""
    bad_values = [name for name, value in env.items() if UNSAFE_VALUE.search(str(value))]
    bad_names = [name for name in env if not NAME.fullmatch(str(name))]
    return bad_values + [name for name in bad_names if name not in bad_values]


def django_venv_name(checksums, extra_packages):
    """A virtualenv's name: 12 hex digits of a hash of the requirements files' checksums
    (in the order of django_requirements_files) and the extra packages. Releases with the
    same requirements share one."""
    text = "\n".join(str(item) for item in list(checksums) + list(extra_packages))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def django_prune(lines, keep, release_dir):
    """What pruning removes, from prune.yml's listing (tab-separated lines: `release
    <sortable time> <path>`, `venv <path>`, `link <release path> <venv it links to>`):
    the releases beyond the newest `keep` by unpacking time, never release_dir (the one
    being deployed), and the virtualenvs that no release left links to."""
    rows = [line.split("\t") for line in lines if line]
    releases = sorted((row for row in rows if row[0] == "release"), key=lambda row: row[1], reverse=True)
    old = [row[2] for row in releases][int(keep):]
    old = [path for path in old if path != release_dir]
    used = {row[2] for row in rows if row[0] == "link" and row[1] not in old}
    unused = [row[1] for row in rows if row[0] == "venv" and row[1] not in used]
    return {"releases": old, "venvs": unused}


def django_switch_failure(release, previous, failed=None, service=None, health=None, back_service=None, back_health=None):
    """Why a host that switched to `release` did not come up healthy, and whether the
    release it went back to (`previous`) serves again: {"message", "serving_again"}.

    failed: the failed task's result; service: the registered restart (None or skipped
    when it did not run); health: the health wait's verdict (django_health_result, None
    when it did not run); back_service, back_health: the same for the release the host
    went back to (None when there was none to go back to)."""
    ran = lambda result: bool(result) and not result.get("skipped")  # noqa: E731
    if ran(service) and service.get("failed"):
        why = f"its service did not start: {service.get('msg', '')}"
    elif health and not health.get("healthy"):
        why = f"its {health.get('why') or 'health check failed'}"
    else:
        why = (failed or {}).get("msg", "unknown")
    message = f"Release {release} failed after the switch: {why}."
    if not previous or previous == release:
        message += " There was no earlier release on this host to go back to."
        return {"message": message, "serving_again": False}
    serving = bool(back_health and back_health.get("healthy")) and not (back_service or {}).get("failed")
    if serving:
        message += (
            f" The host went back to release {previous}, which serves again (its health check passed)."
            " Migrations that the failed release applied stay applied. The rollout stops here."
        )
    else:
        message += (
            f" The host went back to release {previous}, but it does not serve either:"
            f" {(back_health or {}).get('why') or (back_service or {}).get('msg', 'no answer')}."
        )
    return {"message": message, "serving_again": serving}


def django_restore_choice(found, wanted=""):
    """Which backup playbooks/restore.yml restores: found, the registered find of the
    backup directories' dumps; wanted, a file's name or path ('' for the newest).
    Returns {"file", "error"}."""
    files = sorted(found.get("files", []), key=lambda f: f.get("mtime", 0), reverse=True)
    if not files:
        return {"file": "", "error": "There is no backup on this host to restore."}
    if not wanted:
        return {"file": files[0]["path"], "error": ""}
    for candidate in files:
        if wanted in (candidate["path"], candidate["path"].rsplit("/", 1)[-1]):
            return {"file": candidate["path"], "error": ""}
    newest = ", ".join(f["path"].rsplit("/", 1)[-1] for f in files[:5])
    return {"file": "", "error": f"django_restore_file '{wanted}' is not one of this host's backups (the newest: {newest})."}


def django_restore_verdict(document, note, release, safety_file=""):
    """Whether the restored database fits the current release, from the preflight's
    document with the current release's code: {"ok", "message"}. note: the backup's note
    (FILE.json), whose release_before (a backup taken before migrating) or release (a
    scheduled one) is the release whose schema it holds."""
    taken_with = note.get("release_before") or note.get("release") or ""
    problems = [finding["message"] for finding in document.get("findings", [])]
    pending = document.get("pending", [])
    if pending:
        problems.append(f"{len(pending)} migration(s) of release {release} are not applied to it: {', '.join(pending)}.")
    if not problems:
        return {"ok": True, "message": f"The restored database matches release {release}, which serves again."}
    message = f"The restored database does not match release {release}, so the application stays stopped (503): "
    message += " ".join(problems)
    if taken_with and taken_with != release:
        message += f" The backup holds release {taken_with}'s schema."
    if pending and not document.get("findings"):
        message += " To serve it with this release, run playbooks/deploy.yml, which backs it up and migrates it."
    if safety_file:
        message += f" To undo the restore: playbooks/restore.yml -e django_restore_file={safety_file}."
    return {"ok": False, "message": message}


def django_restore_failure(failed, restore=None, safety_file=""):
    """The message of a restore that failed: failed, the failed task's result; restore,
    the restore step's registered result (None when it did not run)."""
    reason = (failed or {}).get("stderr") or (failed or {}).get("msg") or "unknown"
    if restore is None or restore.get("skipped"):
        return f"The restore stopped before touching the database ({reason.strip()}); the application runs again."
    return (
        f"The restore failed ({reason.strip()}): what the database holds is uncertain, so the application stays"
        f" stopped (503). The database as it was before is in {safety_file}: restore it with"
        f" playbooks/restore.yml -e django_restore_file={safety_file}."
    )


def django_rollback_target(log_text, current, wanted="", releases=()):
    """Which release playbooks/rollback.yml goes back to: `wanted` (django_rollback_to),
    or the release the current one was deployed over (its deploy log entry's
    previous_release). Returns {"target", "departed", "backup", "error"}; backup is the
    dump taken before the deploy that made `current` current, if it migrated."""
    entries = []
    for line in (log_text or "").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    deployed = [e for e in entries if e.get("release") == current and e.get("outcome") in ("deployed", "rolled_back")]
    last = deployed[-1] if deployed else {}
    result = {"target": wanted or last.get("previous_release", ""), "departed": current, "backup": last.get("backup", ""),
              "error": ""}
    if not current:
        result["error"] = "Nothing is deployed on this host: there is nothing to roll back."
    elif not result["target"]:
        result["error"] = (
            f"The deploy log names no release before {current}: name one with -e django_rollback_to=RELEASE"
            f" (on this host: {', '.join(sorted(releases)) or 'none'})."
        )
    elif result["target"] == current:
        result["error"] = f"Release {current} is the current one already."
    elif result["target"] not in releases:
        result["error"] = (
            f"Release {result['target']} is not on this host any more (kept: {', '.join(sorted(releases)) or 'none'};"
            " django_releases_keep says how many stay): deploy it again instead."
        )
    return result


def django_rollback_restore(rollback, confirmed=False, now=None):
    """Whether playbooks/rollback.yml may restore the backup taken before the release
    being left was deployed (django_rollback_database: restore) instead of unapplying
    its migrations. rollback: django_rollback_target's result. Returns {"file", "note",
    "error"}: the note says what is lost; the error is set when there is no such backup
    or when django_rollback_restore_confirm is not set."""
    backup = rollback.get("backup", "")
    departed = rollback.get("departed", "?")
    if not backup:
        return {"file": "", "note": "", "error": (
            f"The deploy of release {departed} took no backup (it applied no migration): there is nothing to restore."
            " Roll back without django_rollback_database=restore."
        )}
    now = now or datetime.datetime.now(datetime.timezone.utc)
    taken = "at an unknown time"
    try:
        when = datetime.datetime.strptime(os.path.basename(backup)[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        hours = (now - when).total_seconds() / 3600
        taken = f"at {when:%Y-%m-%d %H:%M} UTC, {hours:.1f} hours ago"
    except ValueError:
        pass
    note = (
        f"The database goes back to {backup}, taken {taken} just before release {departed} was deployed:"
        " everything written to it since is lost (accounts, orders, edits, in every table), not only what"
        f" release {departed}'s migrations changed. A safety backup of the database as it is comes first."
    )
    error = "" if confirmed else note + " To go ahead, run again with -e django_rollback_restore_confirm=true."
    return {"file": backup, "note": note, "error": error}


def _loopback(address):
    try:
        return address == "localhost" or ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _address(host, hostvars):
    """Where the site's hosts reach an inventory host: its published stack_host_address,
    else its ansible_host, else its name. A loopback address is skipped: it names the
    host only to itself (a single-server site publishes 127.0.0.1)."""
    try:
        found = hostvars[host]
    except (KeyError, TypeError):
        return host
    for address in (found.get("stack_host_address"), found.get("ansible_host")):
        if address and not _loopback(address):
            return address
    return host


def django_backup_copy_targets(hosts, hostvars, user):
    """The scheduled backup's COPY_TO: user@address of each host that keeps copies."""
    return " ".join(f"{user}@{_address(host, hostvars)}" for host in hosts)


def django_known_hosts(slurped, hostvars):
    """known_hosts lines for the copy hosts, from the slurp results of their
    ssh_host_ed25519_key.pub (each result's item is the host)."""
    lines = []
    for result in slurped:
        key = base64.b64decode(result["content"]).decode().split()
        lines.append(f"{_address(result['item'], hostvars)} {key[0]} {key[1]}")
    return "".join(line + "\n" for line in lines)


def django_rollback_failure(failed, restore, target, unapply, backup_file):
    """The message when unapplying a rollback's migrations failed: failed, the failed
    task's result (the component's document is its last line); restore, the registered
    restore (skipped when the backup itself failed)."""
    failed = failed or {}
    lines = (failed.get("stdout") or "").strip().splitlines()
    reason = (failed.get("stderr") or "").strip().splitlines()[-1:] or [failed.get("msg", "")]
    try:
        document = json.loads(lines[-1]) if lines else {}
        reason = [found["message"] for found in document.get("findings", [])] or reason
    except ValueError:
        pass
    message = f"The hosts run release {target}, but unapplying {', '.join(unapply)} failed: {' '.join(reason)}"
    restore = restore or {}
    if restore.get("skipped"):
        return message + " Nothing was unapplied: the backup before it failed."
    if restore.get("rc") == 0:
        return message + f" The database was restored from {backup_file}, as it was before unapplying."
    return message + f" The database was NOT restored: restore it with playbooks/restore.yml -e django_restore_file={backup_file}."


class FilterModule:
    def filters(self):
        return {
            "django_env": django_env,
            "django_settings_layer_env": django_settings_layer_env,
            "django_env_unsafe": django_env_unsafe,
            "django_venv_name": django_venv_name,
            "django_prune": django_prune,
            "django_switch_failure": django_switch_failure,
            "django_restore_choice": django_restore_choice,
            "django_restore_verdict": django_restore_verdict,
            "django_restore_failure": django_restore_failure,
            "django_rollback_target": django_rollback_target,
            "django_rollback_failure": django_rollback_failure,
            "django_rollback_restore": django_rollback_restore,
            "django_backup_copy_targets": django_backup_copy_targets,
            "django_known_hosts": django_known_hosts,
        }
