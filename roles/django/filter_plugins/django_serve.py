"""How the django role asks gunicorn whether a release serves, and what gunicorn loads:
the Host header of the health request, whether an answer is healthy, the health wait's
result, and the WSGI application in gunicorn's full form. tasks/health.yml, status.yml
and templates/gunicorn.conf.py.j2 use them; tests/unit/django/test_django_serve.py
tests them.
"""

CHECK_COMMAND = "manage.py check --database default"


def django_health_host(allowed_hosts):
    """A Host header the project accepts, from django_allowed_hosts: the first concrete
    name ('.example.com' allows example.com itself, so that), never '*'; 'localhost' when
    there is none ('*' alone allows it)."""
    for entry in allowed_hosts or []:
        name = str(entry).strip()
        if name.startswith("."):
            name = name[1:]
        if name and name != "*":
            return name
    return "localhost"


def django_health_ok(answer, path=""):
    """Whether gunicorn's answer (a registered uri result) says the release serves. With
    a health path (the project's health URL), only 200 does: the project says so. Without
    one, a request to / proves only that the project loads and handles requests, so any
    answer but a server error does (a login redirect, a 404 for a site without a home
    page); no answer at all (status -1) does not."""
    try:
        status = int((answer or {}).get("status"))
    except (TypeError, ValueError):
        return False
    if path:
        return status == 200
    return 200 <= status < 500


def _output_end(result):
    """The end of a failed command's output: a traceback's last line names the error, a
    system check's last lines its issues and their count."""
    text = (result.get("stderr") or result.get("stdout") or result.get("msg") or "").strip()
    text = " ".join(line.strip() for line in text.splitlines() if line.strip())
    return text[-400:] or "no output"


def django_health_result(answer, check=None, path=""):
    """The health wait's result (health.yml), as serve.yml's rescue and
    django_switch_failure read it: {"healthy", "status", "content", "msg", "why"}.

    answer: the registered uri result (None or skipped when it did not run: the check
    failed first); check: the registered `manage.py check --database default` (None or
    skipped with a health path); why: what went wrong, '' when healthy."""
    answer = answer or {}
    check = check or {}
    result = {
        "healthy": False,
        "status": answer.get("status"),
        "content": answer.get("content", ""),
        "msg": answer.get("msg", ""),
        "why": "",
    }
    if not check.get("skipped") and check.get("rc", 0) != 0:
        result["why"] = f"check ({CHECK_COMMAND}) failed: {_output_end(check)}"
        return result
    if answer.get("skipped") or not answer:
        result["why"] = "health check did not run"
        return result
    result["healthy"] = django_health_ok(answer, path)
    if result["healthy"]:
        return result
    body = (answer.get("content") or answer.get("msg") or "").strip().replace("\n", " ")
    said = f"{answer.get('status', 'no answer')} {body[:300]}".strip()
    if path:
        result["why"] = f"health check did not answer 200 in time: {said}"
    else:
        result["why"] = f"request to / (no health URL) answered a server error or nothing in time: {said}"
    return result


def django_wsgi_app(value):
    """gunicorn's module:callable; a bare module means its `application`, as gunicorn
    itself takes it."""
    value = str(value)
    return value if ":" in value else value + ":application"


class FilterModule:
    def filters(self):
        return {
            "django_health_host": django_health_host,
            "django_health_ok": django_health_ok,
            "django_health_result": django_health_result,
            "django_wsgi_app": django_wsgi_app,
        }
