"""molecule/shared/fresh_check.py: the host-state snapshot's parsing and comparison, the
recap, the expected reports and the verdict (no Docker, no Ansible)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SPEC = importlib.util.spec_from_file_location("fresh_check", ROOT / "molecule/shared/fresh_check.py")
fresh = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(fresh)

SNAPSHOT = """\
@@packages
bash\t5.2.15-2\tii 
sudo\t1.9.13\tii 
@@files
/etc\td 755\troot\troot\t4096\t1700000000.0\t
/etc/hostname\tf 644\troot\troot\t13\t1700000000.1\t
/etc/alternatives/awk\tl 777\troot\troot\t21\t1700000000.2\t/usr/bin/mawk
@@users
root:x:0:0:root:/root:/bin/bash
@@groups
root:x:0:
@@unit-files
ssh.service\tenabled
@@running
systemd-journald.service
"""


def state(text=SNAPSHOT):
    return fresh.parse_snapshot(text)


def test_parse_snapshot_sections_and_keys():
    parsed = state()
    assert set(parsed) == {"packages", "files", "users", "groups", "unit-files", "running"}
    assert parsed["packages"]["bash"] == "5.2.15-2\tii "
    assert parsed["files"]["/etc/alternatives/awk"].endswith("/usr/bin/mawk")
    assert parsed["users"]["root"] == "x:0:0:root:/root:/bin/bash"
    assert parsed["running"] == {"systemd-journald.service": ""}


def test_same_state_has_no_difference():
    assert fresh.compare(state(), state()) == []


def test_every_kind_of_difference_is_found():
    after = SNAPSHOT.replace("1700000000.1", "1700000099.1")  # an mtime
    after = after.replace("sudo\t1.9.13\tii \n", "")  # a package removed
    after = after.replace("@@users\n", "@@users\ndjango:x:999:999::/srv/django:/usr/sbin/nologin\n")
    after = after.replace("ssh.service\tenabled", "ssh.service\tdisabled")
    after = after.replace("@@running\n", "@@running\napache2.service\n")
    after = after.replace("/etc\td 755", "/etc\td 775")  # a mode
    differences = fresh.compare(state(), state(after))
    assert [(section, key) for section, key, _old, _new in differences] == [
        ("files", "/etc"),
        ("files", "/etc/hostname"),
        ("packages", "sudo"),
        ("running", "apache2.service"),
        ("unit-files", "ssh.service"),
        ("users", "django"),
    ]
    lines = fresh.format_differences(differences)
    assert "packages: removed sudo (1.9.13\tii )" in lines
    assert "running: added apache2.service ()" in lines
    assert any(line.startswith("files: changed /etc/hostname:") for line in lines)


def test_ignored_keys_are_left_out():
    after = SNAPSHOT.replace("@@files\n", "@@files\n/var/lib/systemd/timers/stamp-x\tf 644\troot\troot\t0\t1.0\t\n")
    assert fresh.compare(state(), state(after), ignore=[r"^/var/lib/systemd/timers/"]) == []
    assert len(fresh.compare(state(), state(after))) == 1


def test_a_missing_section_counts_as_every_key_removed():
    after = SNAPSHOT.split("@@running")[0]
    assert fresh.compare(state(), state(after)) == [("running", "systemd-journald.service", "", None)]


OUTPUT = """\
TASK [common : Report the base packages a run would install (check mode, apt cannot check)] ***
changed: [host1] =>
    msg: 'check mode without python3-apt: a run would install acl, locales'
TASK [postgresql : Say what check mode cannot check] ***
changed: [host1] =>
    msg: check mode on a fresh host: PostgreSQL is not installed yet. A run would create
        the login roles django and create the databases django.
TASK [django : Say why check mode cannot tell the migrations] ***
changed: [host1] =>
    msg: 'Check mode ... then apply the release''s
        pending migrations (all of them when the database is new)'

PLAY RECAP *********************************************************************
host1                      : ok=109  changed=29   unreachable=0    failed=0    skipped=141  rescued=0    ignored=0
host-2.example             : ok=3    changed=0    unreachable=0    failed=0    skipped=1    rescued=0    ignored=0
"""


def test_parse_recap():
    recap = fresh.parse_recap(OUTPUT)
    assert recap["host1"]["changed"] == 29
    assert recap["host-2.example"] == {"ok": 3, "changed": 0, "unreachable": 0, "failed": 0,
                                       "skipped": 1, "rescued": 0, "ignored": 0}
    assert fresh.parse_recap("no recap here") == {}


def test_expected_reports_match_folded_lines():
    assert fresh.missing_expectations(OUTPUT, fresh.EXPECTED) == []
    skipped_only = "TASK [django : Show the migrations that will be applied] ***\nskipping: [host1]\n"
    assert fresh.missing_expectations(skipped_only, fresh.EXPECTED) == ["packages", "database", "migrations"]


def test_check_command_adds_flags_once():
    assert fresh.check_command(["ansible-playbook", "site.yml"]) == ["ansible-playbook", "site.yml", "--check", "--diff"]
    assert fresh.check_command(["ansible-playbook", "-C", "-D", "site.yml"]) == ["ansible-playbook", "-C", "-D", "site.yml"]


def test_verdict():
    assert fresh.verdict(0, OUTPUT, [], fresh.EXPECTED) == []
    failures = fresh.verdict(2, OUTPUT.replace("changed=29", "changed=0"), [("users", "x", None, "y")], {})
    assert failures == [
        "ansible-playbook exited 2",
        "the recap shows changed=0 on every host: a fresh host must show what a run would change",
        "the host changed: 1 difference(s)",
    ]
    assert fresh.verdict(0, "", [], {}) == ["no PLAY RECAP in the output"]


def test_snapshot_script_names_every_directory():
    script = fresh.snapshot_script()
    for directory in fresh.DIRECTORIES:
        assert directory in script
    assert "%" not in script.replace("%p", "").replace("%y", "").replace("%m", "").replace("%u", "") \
        .replace("%g", "").replace("%s", "").replace("%T@", "").replace("%l", "")
