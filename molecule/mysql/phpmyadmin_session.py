#!/usr/bin/env python3
"""Log in to phpMyAdmin through Apache like a browser does; print what the pages show.

Reads PMA_URL, PMA_USER, PMA_PASSWORD and PMA_DATABASE from the environment (never the
command line, which other users could read) and prints one JSON object. The verify
playbook asserts on it; this script judges nothing itself.
"""

import html.parser
import http.cookiejar
import json
import os
import re
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request


class LoginForm(html.parser.HTMLParser):
    """Collects the action and the hidden inputs of the form with id login_form."""

    def __init__(self):
        super().__init__()
        self.action = None
        self.fields = {}
        self._inside = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == "login_form":
            self.action = attrs.get("action", "")
            self._inside = True
        elif tag == "input" and self._inside and attrs.get("type") == "hidden":
            self.fields[attrs.get("name")] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._inside = False


def alerts(page):
    """Texts of the page's message boxes, without the one only shown when JavaScript is off."""
    texts = []
    for match in re.finditer(r'<div class="alert[^"]*"[^>]*>(.*?)</div>', page, re.S):
        text = " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())
        if "Javascript must be enabled" not in text:
            texts.append(text)
    return texts


def fetch(opener, url, data=None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with opener.open(url, body, timeout=30) as response:
            return response.status, response.geturl(), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, url, error.read().decode("utf-8", "replace")


def session(base, user, password, database):
    """One browser session: the login page, the login, then the databases page."""
    # The scenario serves HTTPS with a self-signed certificate made on the host.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
        urllib.request.HTTPSHandler(context=context),
    )
    status, _, page = fetch(opener, base)
    form = LoginForm()
    form.feed(page)
    result = {
        # Apache must refuse the directories that need no web access.
        "libraries_status": fetch(opener, urllib.parse.urljoin(base, "libraries/"))[0],
        "templates_status": fetch(opener, urllib.parse.urljoin(base, "templates/"))[0],
        "login_page_status": status,
        "login_form": form.action is not None and "pma_username" in page,
        "token": bool(form.fields.get("token")),
        "set_session": bool(form.fields.get("set_session")),
    }
    if form.action is None:
        return result

    fields = dict(form.fields)
    fields.update(pma_username=user, pma_password=password, server="1")
    status, url, page = fetch(opener, urllib.parse.urljoin(base, form.action), fields)
    lowered = page.lower()
    result.update(
        login_status=status,
        # Only a logged-in page offers to log out; a refused login shows the form again.
        logged_in="route=/logout" in page,
        login_form_again='id="login_form"' in page,
        access_denied="access denied" in lowered,
        storage_warning="configuration storage" in lowered,
        pmadb_warning="pmadb" in lowered,
        home_alerts=alerts(page),
    )
    if result["logged_in"]:
        status, _, page = fetch(opener, urllib.parse.urljoin(base, "index.php?route=/server/databases"))
        result.update(
            databases_status=status,
            database_listed="db=" + urllib.parse.quote(database) in page,
        )
    return result


def main():
    base = os.environ["PMA_URL"].rstrip("/") + "/"
    print(json.dumps(session(base, os.environ["PMA_USER"], os.environ["PMA_PASSWORD"],
                             os.environ.get("PMA_DATABASE", ""))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
