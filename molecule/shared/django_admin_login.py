#!/usr/bin/env python3
"""Log in to the Django admin like a browser and open a changelist.

    django_admin_login.py BASE_URL USERNAME PASSWORD_FILE CHANGELIST_PATH

GETs the login page, posts the form with its CSRF token (keeping cookies), then GETs the
changelist. Prints JSON: {"login_status", "logged_in", "changelist_status",
"changelist_ok"}. Exit code 0 whatever the outcome: the caller asserts.
"""

import http.cookiejar
import json
import re
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

base, username, password_file, changelist = sys.argv[1:5]
with open(password_file) as handle:
    password = handle.read().strip()

# Test hosts may use a self-signed certificate.
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(
    urllib.request.HTTPCookieProcessor(jar), urllib.request.HTTPSHandler(context=context)
)


def fetch(path, data=None):
    request = urllib.request.Request(base + path, data=data)
    # Over HTTPS Django also checks the Referer against the host.
    request.add_header("Referer", base + path)
    try:
        with opener.open(request, timeout=20) as response:
            return response.status, response.geturl(), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.geturl(), error.read().decode(errors="replace")


status, _, page = fetch("/admin/login/?next=/admin/")
token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
form = urllib.parse.urlencode(
    {
        "csrfmiddlewaretoken": token.group(1) if token else "",
        "username": username,
        "password": password,
        "next": "/admin/",
    }
).encode()
login_status, final_url, page = fetch("/admin/login/?next=/admin/", form)
list_status, list_url, list_page = fetch(changelist)
print(
    json.dumps(
        {
            "login_status": login_status,
            # A failed login re-renders the login form; a successful one lands on /admin/.
            "logged_in": final_url.rstrip("/").endswith("/admin") and "Log out" in page,
            "changelist_status": list_status,
            # The changelist's heading names the model: "Select book to change".
            "changelist_ok": list_status == 200 and "/admin/login/" not in list_url
            and re.search(r"Select [\w ]+ to change", list_page) is not None,
        }
    )
)
