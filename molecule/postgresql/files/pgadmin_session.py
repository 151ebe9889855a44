"""Log in to pgAdmin 4 through Apache like a browser does and report what happened.

Run on the test host with the system Python (standard library only):
    PGADMIN_URL=http://localhost/pgadmin4 PGADMIN_EMAIL=... PGADMIN_PASSWORD=... python3 pgadmin_session.py

Prints one JSON object (never the password):
    login_page_status     HTTP status of GET <url>/login
    wrong_password_refused  a POST with a wrong password leaves the session logged out
    logged_in             after the real POST, <url>/browser/ answers 200 without a redirect to login
    servers               names of the servers in the login's server groups
"""

import http.cookiejar
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

BASE = os.environ["PGADMIN_URL"].rstrip("/")
EMAIL = os.environ["PGADMIN_EMAIL"]
PASSWORD = os.environ["PGADMIN_PASSWORD"]


def session():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def get(opener, path, headers=None):
    try:
        request = urllib.request.Request(BASE + path, headers=headers or {})
        response = opener.open(request, timeout=30)
        return response.status, response.geturl(), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.geturl(), error.read().decode("utf-8", "replace")


def log_in(opener, password):
    """GET the login page for its CSRF token, then POST the form; redirects are followed."""
    status, _, page = get(opener, "/login")
    match = re.search(r'"csrfToken":\s*"([^"]+)"', page)
    if status != 200 or not match:
        return status, None
    form = urllib.parse.urlencode({
        "csrf_token": match.group(1),
        "email": EMAIL,
        "password": password,
        "language": "en",
        "internal_button": "Login",
    }).encode()
    request = urllib.request.Request(BASE + "/authenticate/login", data=form,
                                     headers={"Referer": BASE + "/login"})
    try:
        opener.open(request, timeout=30).read()
    except urllib.error.HTTPError:
        pass
    return status, match.group(1)


def is_logged_in(opener):
    status, url, _ = get(opener, "/browser/")
    return status == 200 and "/login" not in urllib.parse.urlparse(url).path


def server_names(opener):
    """The browser tree's API wants the session's CSRF token in a header, even on GET;
    the page's utils.js hands both the header name and the token to the browser."""
    names = []
    _, _, script = get(opener, "/browser/js/utils.js")
    header = re.search(r"pgAdmin\['csrf_token_header'\] = '([^']+)'", script)
    token = re.search(r"pgAdmin\['csrf_token'\] = '([^']+)'", script)
    if not header or not token:
        return names
    headers = {header.group(1): token.group(1)}
    status, _, body = get(opener, "/browser/server_group/nodes/", headers)
    if status != 200:
        return names
    # pgAdmin answers node lists in "data" (server groups) or "result" (servers).
    for group in json.loads(body).get("data") or []:
        status, _, body = get(opener, "/browser/server/nodes/%s/" % group["_id"], headers)
        if status == 200:
            payload = json.loads(body)
            names.extend(server["label"] for server in payload.get("result") or payload.get("data") or [])
    return names


def main():
    report = {}
    # A wrong password first: a later good login resets pgAdmin's failed-attempt counter.
    wrong = session()
    report["login_page_status"], token = log_in(wrong, PASSWORD + "-wrong")
    report["csrf_token_found"] = token is not None
    report["wrong_password_refused"] = token is not None and not is_logged_in(wrong)

    good = session()
    log_in(good, PASSWORD)
    report["logged_in"] = is_logged_in(good)
    report["servers"] = server_names(good) if report["logged_in"] else []
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
