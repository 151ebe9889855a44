"""The status playbook's table (playbooks/status.yml): one row per application host from
what bin/django_stack_status.py reported there. tests/unit/django/test_django_status.py
tests it."""

import json

COLUMNS = ("host", "release", "deployed", "pending", "last deploy", "backup", "backup timer", "service", "health", "deploy lock")


def _size(count):
    count = float(count or 0)
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return ""


def _lock_cell(lock):
    """The deploy lock as this host's files show it (only the site's first application
    host holds one)."""
    record = lock.get("record") or {}
    busy = lock.get("busy") or {}
    cell = "free"
    if record:
        cell = f"held by {record.get('user', '?')}@{record.get('control_host', '?')} since {record.get('started', '?')} (run {record.get('run', '?')})"
    if busy:
        cell += f"; {busy.get('what', 'work')} working since {busy.get('since', '?')} (pid {busy.get('pid', '?')})"
    return cell


def django_backup_verification(record):
    """How a scheduled backup's record says its dump was verified (records written before
    the scratch restore existed were read back)."""
    if record.get("verified_by") == "restore":
        return (
            f"restored whole into the scratch database ({record.get('tables', '?')} tables, "
            f"{record.get('migrations', '?')} migrations applied)"
        )
    return "read back completely"


def django_status_row(host, status):
    """The cells of one host's row."""
    deployed = status.get("deployed") or {}
    last = status.get("last_deploy") or {}
    backup = status.get("backup") or {}
    timer = status.get("timer") or {}
    service = status.get("service") or {}
    health = status.get("health") or {}
    if "pending_error" in status:
        pending = "unknown: " + status["pending_error"]
    else:
        pending = ", ".join(status.get("pending") or []) or "none"
    # The status script gives a host without a scheduled backup yet {"age_hours": None}.
    if not backup.get("time") and not backup.get("error"):
        backup_cell = "none yet"
    elif backup.get("error"):
        backup_cell = f"FAILED {backup.get('age_hours')} h ago: {backup['error']}"
    else:
        verified = "verified, " + django_backup_verification(backup) if backup.get("verified") else "NOT verified"
        backup_cell = f"{backup.get('age_hours')} h ago, {_size(backup.get('bytes'))}, {verified}"
    if (status.get("backup_unit") or {}).get("ActiveState") == "failed" and not backup.get("error"):
        backup_cell += " (its unit failed)"
    if timer.get("UnitFileState") == "enabled":
        timer_cell = f"next {timer.get('NextElapseUSecRealtime') or '?'}"
    else:
        timer_cell = "off on this host"
    health_cell = str(health.get("status") or health.get("error") or "no answer")
    # A project without a health URL is asked at / (any answer but a 5xx is up): say so,
    # or a 302 would read like a broken health URL.
    if health.get("path") == "/":
        health_cell += " (asked /)"
    last_cell = "-"
    if last and last is not deployed and last != deployed:
        last_cell = f"{last.get('outcome', '?')} {last.get('release') or last.get('run', '?')} at {last.get('time', '?')}"
    return [
        host,
        status.get("release") or "none",
        f"{deployed.get('time', '?')} by {deployed.get('by') or '?'}" if deployed else "-",
        pending,
        last_cell,
        backup_cell,
        timer_cell,
        f"{service.get('ActiveState', '?')} ({service.get('SubState', '?')})",
        health_cell,
        _lock_cell(status.get("lock") or {}),
    ]


def django_status_table(hosts, results):
    """hosts: the play's hosts; results: each host's registered run of the status script
    (its stdout one JSON line). Returns the table's lines, columns aligned."""
    cells = [list(COLUMNS)]
    for host, result in zip(hosts, results):
        try:
            status = json.loads((result or {}).get("stdout") or "")
        except ValueError:
            status = {"health": {"error": "the status script gave no report: " + str((result or {}).get("stderr", ""))[:200]}}
        cells.append(django_status_row(host, status))
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in cells]


class FilterModule:
    def filters(self):
        return {"django_status_table": django_status_table, "django_backup_verification": django_backup_verification}
