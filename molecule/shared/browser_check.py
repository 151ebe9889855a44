#!/usr/bin/env python3
"""What a person sees in a real browser: the Django admin, pgAdmin 4 and phpMyAdmin.

Headless Chromium from Debian's packages (/usr/bin/chromium), driven by Playwright's
Python package; nothing is downloaded at run time. Each step saves a screenshot.

    browser_check.py django-admin URL USER PASSWORD_FILE SHOT --expect TEXT...
    browser_check.py pgadmin URL EMAIL PASSWORD_FILE SHOT --server NAME --database DB --expect TABLE...
    browser_check.py phpmyadmin URL USER PASSWORD_FILE SHOT --database DB --expect TABLE...
                     [--refused-user root]

URL is where the tool is (http://host/admin/, http://host/pgadmin4/, ...). Options:
  --resolve NAME=ADDRESS   make the browser reach NAME at ADDRESS (the site's own host
                           name, which Django's ALLOWED_HOSTS accepts, on a test network)

Prints one JSON line {"ok": bool, "steps": [...], "error": ...} and exits 1 unless ok.
Passwords are read from files and never printed.
"""

import argparse
import json
import re
import sys

CHROMIUM = "/usr/bin/chromium"
# pgAdmin's tree and phpMyAdmin's pages are JavaScript-heavy: allow for slow test hosts.
TIMEOUT_MS = 60_000


class Steps:
    """The report: one entry per step, each with its screenshot."""

    def __init__(self, page, shot_prefix):
        self.page = page
        self.prefix = shot_prefix
        self.done = []

    def record(self, name, **facts):
        path = "%s-%d-%s.png" % (self.prefix, len(self.done) + 1, name)
        self.page.screenshot(path=path, full_page=False)
        self.done.append(dict(facts, step=name, screenshot=path))


def read_secret(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read().strip().split(" salt=")[0]


def django_admin(page, steps, args):
    page.goto(args.url + "login/")
    page.fill("#id_username", args.user)
    page.fill("#id_password", read_secret(args.password_file))
    page.click("input[type=submit]")
    page.wait_for_selector("#content", timeout=TIMEOUT_MS)
    missing = [text for text in args.expect if not page.get_by_text(text, exact=True).count()]
    steps.record("django-admin", logged_in=page.locator("#user-tools").count() > 0, missing=missing)
    if page.locator("#user-tools").count() == 0:
        raise AssertionError("the Django admin did not log in (no user tools on %s)" % page.url)
    if missing:
        raise AssertionError("the Django admin does not show: %s" % ", ".join(missing))


def _login_form(page, url, user, password, user_field, password_field):
    page.goto(url)
    page.fill(user_field, user)
    page.fill(password_field, password)
    page.keyboard.press("Enter")


def pgadmin(page, steps, args):
    _login_form(page, args.url, args.user, read_secret(args.password_file),
                "input[name=email]", "input[name=password]")

    def node(name):
        return page.locator(".file-name").get_by_text(name, exact=True).first

    node("Servers").wait_for()
    steps.record("pgadmin-login", url=page.url)
    # Down the object explorer as a person would, a double click per level. pgAdmin
    # opens some levels by itself (the only server group, a connected server): a level
    # is opened only when its first child does not show up by itself.
    path = ["Servers", args.server, "Databases", args.database, "Schemas", "public", "Tables"]
    # Connecting to the server is where a missing pass file shows: pgAdmin asks for the
    # database password instead of opening the server.
    asks_password = page.get_by_text("Connect to Server", exact=True)
    for current, child in zip(path, path[1:]):
        try:
            node(child).or_(asks_password).first.wait_for(timeout=3000)
        except Exception:
            node(current).dblclick()
            node(child).or_(asks_password).first.wait_for()
        if asks_password.count():
            steps.record("pgadmin-asks-password")
            raise AssertionError("pgAdmin asks for the database password of the server %r" % args.server)
    node("Tables").dblclick()
    node(args.expect[0]).wait_for()
    shown = set(page.locator(".file-name").all_inner_texts())
    missing = [table for table in args.expect if table not in shown]
    # The tree is long: bring the last of the expected tables into the screenshot.
    node(max(args.expect)).scroll_into_view_if_needed()
    steps.record("pgadmin-tables", missing=missing)
    if missing:
        raise AssertionError("pgAdmin does not list the tables %s" % ", ".join(missing))


def phpmyadmin(page, steps, args):
    password = read_secret(args.password_file)
    login_fields = ("#input_username", "#input_password")
    if args.refused_user:
        # Any password: the account must not get in through phpMyAdmin at all.
        _login_form(page, args.url, args.refused_user, password, *login_fields)
        # The login page keeps a hidden alert of its own; the refusal is a visible one.
        refusal = page.locator(".alert-danger:visible")
        refusal.first.wait_for()
        still_at_login = page.locator(login_fields[0]).count() > 0
        steps.record("phpmyadmin-refused", user=args.refused_user, login_form=still_at_login,
                     message=refusal.first.inner_text().strip())
        if not still_at_login:
            raise AssertionError("phpMyAdmin let %s in" % args.refused_user)
        page.context.clear_cookies()
    _login_form(page, args.url, args.user, password, *login_fields)
    navigation, refusal = page.locator("#pma_navigation"), page.locator(".alert-danger:visible")
    navigation.or_(refusal).first.wait_for()
    if refusal.count():
        steps.record("phpmyadmin-login-refused", user=args.user)
        raise AssertionError("phpMyAdmin refused %s: %s" % (args.user, refusal.first.inner_text().strip()))
    page.goto(args.url + "index.php?route=/database/structure&db=" + args.database)
    content = page.locator("#page_content")
    content.get_by_role("link", name=args.expect[0], exact=True).first.wait_for()
    shown = {text.strip() for text in content.get_by_role("link").all_inner_texts()}
    missing = [table for table in args.expect if table not in shown]
    steps.record("phpmyadmin-tables", missing=missing)
    if missing:
        raise AssertionError("phpMyAdmin does not list the tables %s" % ", ".join(missing))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tool", choices=["django-admin", "pgadmin", "phpmyadmin"])
    parser.add_argument("url")
    parser.add_argument("user")
    parser.add_argument("password_file")
    parser.add_argument("shot_prefix")
    parser.add_argument("--expect", nargs="+", default=[])
    parser.add_argument("--server")
    parser.add_argument("--database")
    parser.add_argument("--refused-user")
    parser.add_argument("--resolve", action="append", default=[])
    args = parser.parse_args(argv[1:])
    if not args.url.endswith("/"):
        args.url += "/"

    from playwright.sync_api import sync_playwright

    chromium_args = ["--no-sandbox"]
    if args.resolve:
        rules = ", ".join("MAP %s %s" % tuple(pair.split("=", 1)) for pair in args.resolve)
        chromium_args.append("--host-resolver-rules=" + rules)
    report = {"ok": False, "tool": args.tool, "steps": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=chromium_args)
        context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 800})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        steps = Steps(page, args.shot_prefix)
        try:
            {"django-admin": django_admin, "pgadmin": pgadmin, "phpmyadmin": phpmyadmin}[args.tool](page, steps, args)
            report["ok"] = True
        except Exception as error:  # the report says what failed, with a screenshot
            report["error"] = "%s: %s" % (type(error).__name__, error)
            try:
                steps.record("failed", url=page.url)
            except Exception:
                pass
        finally:
            report["steps"] = steps.done
            browser.close()
    print(json.dumps(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
