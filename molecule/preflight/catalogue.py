#!/usr/bin/env python3
"""The catalogue of bad inputs (issue 20), each tried on fresh hosts.

Usage: catalogue.py PROJECT_DIR WORK_DIR HOST_A HOST_B

HOST_A and HOST_B are fresh systemd containers (nothing installed by the project).
Every case runs the real `ansible-playbook site.yml` with one or a few wrong inputs,
through an inventory of its own (docker connection; the single-server layout, or the
two hosts as a site for the cases about what one host needs from the other). A case
passes when the run fails, its output names each wrong variable with the expected
message, every host's recap shows changed=0, no secret value of the case is in the
output, and the hosts are untouched: the same installed packages and accounts as before
the catalogue, and no file under the watched directories newer than a marker file made
before the first case. The single-host cases run on the two hosts at once.
It prints a line per case and a summary, and exits 1 when a case fails.
"""

import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time

KEY = "Zq8w!Lk3#Vb7@Nm2$Xc5%Hj9^Ty4&Ru6*Io1(Pa0)Sd8-Fg3_Gh7+Jk2="
# Where a run that got past the preflight would leave something.
WATCHED = ["/etc", "/srv", "/opt", "/usr", "/var/lib", "/var/www", "/var/backups", "/home"]
MARKER = "/run/catalogue-marker"
SINGLE = {"groups": {"dbservers": ["A"], "webservers": ["A"], "appservers": ["A"]}}

# (name, engine, extra vars, expected text in the output, {layout}). A case names the
# variable it breaks; "expect" lists what the refusal must say (one or more lines).
CASES = [
    ("unknown engine", "postgresql", {"stack_db_engine": "oracle"},
     ["stack: value of stack_db_engine must be one of: postgresql, mysql, got: oracle"]),
    ("bad database name", "postgresql", {"stack_db_name": "1st-db"}, ["stack: stack_db_name must be an identifier"]),
    ("scratch database is the application's", "mysql", {"stack_db_scratch_name": "django"},
     ["stack: stack_db_scratch_name must not be stack_db_name ('django')"]),
    ("empty database user", "postgresql", {"stack_db_user": ""}, ["stack: stack_db_user must be an identifier"]),
    ("short database password", "postgresql", {"stack_db_password": "pw12345"},
     ["stack: stack_db_password must have at least 8 characters"]),
    ("quote in the database password", "mysql", {"stack_db_password": "it's-long-enough"},
     ["stack: stack_db_password may hold printable ASCII characters except the single quote"]),
    ("non-UTF-8 locale", "postgresql", {"common_locale": "C"}, ["common: common_locale"]),
    ("wrong type: apt cache time", "mysql", {"common_apt_cache_valid_time": "soon"},
     ["common: argument 'common_apt_cache_valid_time' is of type str"]),
    ("cluster locale", "postgresql", {"postgresql_locale": "en_US.ISO-8859-1"}, ["postgresql: postgresql_locale"]),
    ("bad login role name", "postgresql", {"postgresql_users": [{"name": "bad name"}]}, ["postgresql: postgresql_users"]),
    ("bad listen address", "postgresql", {"postgresql_listen_addresses": ["not-an-address"]},
     ["postgresql: postgresql_listen_addresses"]),
    ("bad network", "postgresql", {"pgadmin_allowed_networks": ["not-a-cidr"]},
     ["pgadmin: pgadmin_allowed_networks must list IP addresses or CIDR networks; these are not: 'not-a-cidr'"]),
    ("admin e-mail pgAdmin refuses", "postgresql", {"pgadmin_admin_email": "admin@localhost"},
     ["pgadmin: pgadmin_admin_email must be an email address pgAdmin accepts"]),
    ("privileged pgAdmin port", "postgresql", {"pgadmin_port": 80}, ["pgadmin: pgadmin_port must be a port from 1024"]),
    ("mismatched collation", "mysql", {"mysql_collation": "latin1_swedish_ci"},
     ["mysql: mysql_collation must be a utf8mb4 collation"]),
    ("unknown MySQL flavour", "mysql", {"mysql_flavor": "percona"}, ["mysql: value of mysql_flavor must be one of"]),
    ("empty MySQL user password", "mysql", {"mysql_users": [{"name": "report", "password": ""}]},
     ["mysql: a password in mysql_users must be a non-empty string"]),
    ("bad phpMyAdmin network", "mysql", {"phpmyadmin_allowed_networks": ["everyone"]},
     ["phpmyadmin: every entry of phpmyadmin_allowed_networks must be an IP network"]),
    ("short blowfish secret", "mysql", {"phpmyadmin_blowfish_secret": "tooshort"},
     ["phpmyadmin: phpmyadmin_blowfish_secret must be exactly 32"]),
    ("wrong type: HTTPS switch", "postgresql", {"webserver_https": "maybe"},
     ["webserver: argument 'webserver_https' is of type str and we were unable to convert to bool"]),
    ("port out of range", "mysql", {"webserver_http_port": 0}, ["webserver: webserver_http_port must be a port from 1 to 65535"]),
    ("server name with a scheme", "postgresql", {"webserver_server_name": "https://www.example.com/"},
     ["webserver: webserver_server_name must be a host name or an address"]),
    ("certificate without its key", "mysql", {"webserver_https": True, "webserver_tls_certificate": "/tmp/site.crt"},
     ["webserver: give both webserver_tls_certificate and webserver_tls_certificate_key"]),
    ("empty allowed hosts", "postgresql", {"django_allowed_hosts": []},
     ["django: django_allowed_hosts must list the host names the site answers to"]),
    ("bad application name", "mysql", {"django_app_name": "Book Store"}, ["django: django_app_name must be a short lower-case name"]),
    ("missing git version", "postgresql",
     {"django_source": "git", "django_source_git_repo": "https://git.example.com/site.git"},
     ["django: django_source_git_version must not be empty when django_source is 'git'"]),
    ("missing source directory", "mysql", {"django_source": "local", "django_source_dir": "/nonexistent/project"},
     ["django: django_source_dir '/nonexistent/project' does not exist or has no manage.py"]),
    ("short secret key", "postgresql", {"django_secret_key": "abcdefghij"},
     ["django: django_secret_key would fail Django's deployment check: it has 10 characters"]),
    ("development secret key", "mysql", {"django_secret_key": "django-insecure-" + KEY},
     ["django: django_secret_key would fail Django's deployment check: it starts with 'django-insecure-'"]),
    ("WSGI path instead of module", "postgresql", {"django_wsgi_module": "bookstore/wsgi.py"},
     ["django: django_wsgi_module must look like package.module or package.module:callable"]),
    ("unknown settings-layer override", "postgresql", {"django_settings_keep": ["debug", "statics"]},
     ["django: value of django_settings_keep must be one or more of", "Got no match for: statics"]),
    ("no release kept", "mysql", {"django_releases_keep": 0}, ["django: django_releases_keep must be at least 1 (got 0)"]),
    ("schedule systemd cannot read", "postgresql", {"django_backup_schedule": "every day"},
     ["django: django_backup_schedule 'every day' is not a calendar expression systemd reads"]),
    ("environment name with a space", "mysql", {"django_extra_env": {"BAD NAME": "x"}},
     ["django: the application's environment", "offending names: BAD NAME"]),
    ("wrong type: releases kept", "postgresql", {"django_releases_keep": "many"},
     ["django: argument 'django_releases_keep' is of type str"]),
    ("several at once", "postgresql",
     {"pgadmin_allowed_networks": ["10.0.0.0/33"], "django_allowed_hosts": [], "common_locale": "C"},
     ["3 wrong input(s)", "common: common_locale", "pgadmin: pgadmin_allowed_networks", "django: django_allowed_hosts"]),
]

# What one host needs from the other: both hosts, one site.
SITE_CASES = [
    ("engines differ between hosts", {"dbservers": ["A"], "webservers": ["A", "B"], "appservers": ["B"]},
     {"A": {"stack_db_engine": "postgresql"}, "B": {"stack_db_engine": "mysql"}}, {},
     ["stack: stack_db_engine is 'mysql' here but 'postgresql' on the database host"]),
    ("no database host", {"webservers": ["A", "B"], "appservers": ["A", "B"]}, {}, {},
     ["stack: the inventory group dbservers (stack_db_group) is empty"]),
    ("bad host address", {"dbservers": ["A"], "webservers": ["A", "B"], "appservers": ["B"]},
     {"B": {"stack_host_address": "not an address!"}}, {},
     ["stack: stack_host_address must be an IP address or a host name (got 'not an address!')"]),
    ("balancer health check", {"dbservers": ["A"], "webservers": ["A", "B"], "appservers": ["B"], "loadbalancers": ["A"]},
     {}, {"loadbalancer_check_rise": 0, "loadbalancer_http_port": 8080},
     ["loadbalancer: loadbalancer_check_rise and loadbalancer_check_fall must be at least 1"]),
]


def sh(container, command):
    return subprocess.run(["docker", "exec", container, "sh", "-c", command], capture_output=True, text=True, check=True).stdout


def host_state(container):
    """What the catalogue must leave as it is: packages, accounts, and files newer than the marker."""
    return {
        "packages": sh(container, "dpkg-query -W -f '${Package} ${Version}\\n' | sort"),
        "accounts": sh(container, "cut -d: -f1,3,6,7 /etc/passwd; cut -d: -f1,3 /etc/group"),
        # systemd keeps its own state under /var/lib/systemd (timer stamps) as time goes by.
        "new files": sh(container, "find %s -xdev -newer %s -not -path '/var/lib/systemd/*' -print 2>/dev/null | sort | head -50"
                        % (" ".join(WATCHED), MARKER)),
    }


def inventory(path, containers, groups, host_vars, engine):
    hosts = {
        containers[name]: dict({"ansible_connection": "community.docker.docker", "ansible_python_interpreter": "/usr/bin/python3"},
                               **host_vars.get(name, {}))
        for name in containers
    }
    doc = {"all": {
        "hosts": hosts,
        "vars": {"stack_db_engine": engine, "stack_credentials_dir": os.path.join(os.path.dirname(path), "credentials")},
        "children": {group: {"hosts": {containers[name]: {} for name in members}} for group, members in groups.items()},
    }}
    with open(path, "w") as handle:
        json.dump(doc, handle)


def run_case(project, work, index, name, containers, groups, host_vars, extra, expect, engine="postgresql"):
    case_dir = os.path.join(work, "case%02d" % index)
    os.makedirs(case_dir, exist_ok=True)
    inventory(os.path.join(case_dir, "inventory.json"), containers, groups, host_vars, engine)
    with open(os.path.join(case_dir, "extra.json"), "w") as handle:
        json.dump(extra, handle)
    started = time.monotonic()
    run = subprocess.run(
        ["ansible-playbook", "-i", os.path.join(case_dir, "inventory.json"), "site.yml", "-e", "@" + os.path.join(case_dir, "extra.json")],
        cwd=project, capture_output=True, text=True, env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0"),
    )
    output = run.stdout + run.stderr
    with open(os.path.join(case_dir, "output.txt"), "w") as handle:
        handle.write(output)
    problems = check_output(run.returncode, output, expect, extra)
    for container in containers.values():
        if host_state(container) != BEFORE[container]:
            problems.append("%s changed: %s" % (container, diff_state(BEFORE[container], host_state(container))))
    return name, time.monotonic() - started, problems


def secrets_of(extra):
    """The case's values that are secrets: they must never be in the output."""
    return [value for key, value in extra.items() if key.endswith(("password", "secret_key", "blowfish_secret"))
            and isinstance(value, str) and len(value) >= 6]


def check_output(returncode, output, expect, extra):
    """What is wrong with one case's run (empty: the case passed)."""
    problems = []
    if returncode == 0:
        problems.append("the run succeeded")
    if "nothing was changed on any host" not in output:
        problems.append("no preflight report in the output")
    for text in expect:
        if text not in output:
            problems.append("the output does not say: %s" % text)
    recap = re.findall(r"changed=(\d+)", output.split("PLAY RECAP")[-1])
    if not recap or any(count != "0" for count in recap):
        problems.append("the recap is not changed=0 everywhere: %s" % recap)
    for secret in secrets_of(extra):
        if secret in output:
            problems.append("a secret value of the case is in the output")
    return problems


def diff_state(before, after):
    """What changed, shortly: the lines that appeared or went, the first few of each."""
    changes = []
    for key in before:
        old, new = set(before[key].splitlines()), set(after[key].splitlines())
        if old != new:
            added, gone = sorted(new - old), sorted(old - new)
            changes.append("%s: +%d %s -%d %s" % (key, len(added), added[:5], len(gone), gone[:5]))
    return "; ".join(changes)


BEFORE = {}


def main():
    project, work, host_a, host_b = sys.argv[1:5]
    os.makedirs(work, exist_ok=True)
    containers = [host_a, host_b]
    for container in containers:
        # Once systemd has settled: its start writes under /etc and /var/lib.
        sh(container, "systemctl is-system-running --wait >/dev/null; sleep 1; touch %s; sleep 1" % MARKER)
        BEFORE[container] = host_state(container)
        if BEFORE[container]["new files"]:
            sys.exit("%s: files are newer than the marker before any case: %s" % (container, BEFORE[container]["new files"]))
    results = []
    # The single-host cases, half on each host, the two halves at once.
    jobs = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for index, (name, engine, extra, expect) in enumerate(CASES):
            container = containers[index % 2]
            jobs.append(pool.submit(run_case, project, work, index, name, {"A": container}, SINGLE["groups"], {},
                                    extra, expect, engine))
        results += [job.result() for job in jobs]
    for offset, (name, groups, host_vars, extra, expect) in enumerate(SITE_CASES):
        results.append(run_case(project, work, len(CASES) + offset, name, {"A": host_a, "B": host_b}, groups, host_vars,
                                extra, expect))
    failed = 0
    for name, seconds, problems in results:
        print("%-4s %-36s %5.1f s  %s" % ("ok" if not problems else "FAIL", name, seconds, "; ".join(problems)))
        failed += bool(problems)
    print("catalogue: %d cases, %d failed, hosts untouched: %s" % (len(results), failed,
          all(host_state(c) == BEFORE[c] for c in containers)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
