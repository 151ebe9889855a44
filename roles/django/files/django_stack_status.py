#!/usr/bin/python3
"""What a host runs and holds, as one JSON line (playbooks/status.yml).

The django role installs it in <django_root>/bin and runs it as root, read only:

  django_stack_status.py ROOT SERVICE BACKUP_UNIT APP_USER HEALTH_URL HOST_HEADER

  release         the release `current` points at ('' before the first deploy)
  deployed        the deploy log's last entry for that release, or {}
  last_deploy     the deploy log's last entry, whatever its outcome, or {}
  pending         migrations of the current release not applied to the database
                  (`showmigrations --plan` as the application's user), or an error
  backup          the scheduled backup's last.json, with its age in hours, or {}
  timer           the backup timer's state and next run (systemd)
  service         the application service's state (systemd)
  health          the health URL's (or /'s) status code through gunicorn, or the
                  error, and the path asked; a redirect is reported, not followed
  lock            the deploy lock's files on this host (django_stack_lock.py show)

Nothing here writes; importing it does nothing.
"""

import datetime
import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import django_stack_lock  # beside this script in <django_root>/bin


def last_entries(log_text, release):
    """(the last entry for release that deployed it, the last entry) of deploy.log's lines."""
    entries = []
    for line in log_text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    deployed = [entry for entry in entries if entry.get("release") == release and entry.get("outcome") == "deployed"]
    return (deployed[-1] if deployed else {}), (entries[-1] if entries else {})


def pending_from_plan(text):
    """The unapplied migrations in `showmigrations --plan` output ("[ ]  app.name")."""
    return [line.split(None, 2)[-1].strip() for line in text.splitlines() if line.strip().startswith("[ ]")]


def backup_age(record, now):
    """The record with its age in hours (None without a time)."""
    if not record.get("time"):
        return dict(record, age_hours=None)
    when = datetime.datetime.strptime(record["time"], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    return dict(record, age_hours=round((now - when).total_seconds() / 3600, 1))


def systemd(unit, *properties):
    done = subprocess.run(
        ["systemctl", "show", unit, "--property=" + ",".join(properties)], capture_output=True, text=True
    )
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def read(path, default=""):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return default


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # Gunicorn's own answer is the state: / often redirects to a login page or to HTTPS
    # (gunicorn is asked over plain HTTP), which would lead elsewhere.
    def redirect_request(self, *args, **kwargs):
        return None


def health(url, host):
    request = urllib.request.Request(url, headers={"Host": host})
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=5) as answer:
            return {"status": answer.status}
    except urllib.error.HTTPError as error:
        return {"status": error.code}
    except (OSError, ValueError) as error:
        return {"status": None, "error": str(error)}


def status(root, service, backup_unit, app_user, health_url, host, now=None):
    now = now or datetime.datetime.now(datetime.timezone.utc)
    current = os.path.join(root, "current")
    release = os.path.basename(os.readlink(current)) if os.path.islink(current) else ""
    deployed, last = last_entries(read(os.path.join(root, "deploy.log")), release)
    result = {"release": release, "deployed": deployed, "last_deploy": last}
    if release:
        plan = subprocess.run(
            ["runuser", "-u", app_user, "--", os.path.join(root, "bin", "manage"), "showmigrations", "--plan"],
            capture_output=True,
            text=True,
        )
        if plan.returncode == 0:
            result["pending"] = pending_from_plan(plan.stdout)
        else:
            result["pending_error"] = (plan.stderr.strip().splitlines() or ["showmigrations failed"])[-1]
    try:
        record = json.loads(read(os.path.join(root, "backups", "scheduled", "last.json"), "{}"))
    except ValueError:
        record = {"error": "last.json does not parse"}
    result["backup"] = backup_age(record, now)
    result["timer"] = systemd(backup_unit + ".timer", "UnitFileState", "ActiveState", "NextElapseUSecRealtime")
    result["backup_unit"] = systemd(backup_unit + ".service", "ActiveState", "Result")
    result["service"] = systemd(service + ".service", "ActiveState", "SubState", "ActiveEnterTimestamp")
    result["health"] = dict(health(health_url, host), path=urllib.parse.urlsplit(health_url).path)
    result["lock"] = django_stack_lock.show(root)
    return result


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(status(*argv), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
