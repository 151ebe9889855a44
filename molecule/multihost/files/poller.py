"""Poll a URL until told to stop, and count what came back.

Usage: poller.py URL STOP_FILE MAX_SECONDS MAX_REQUESTS HOST
Sends GET requests one after another, 20 a second at most, until STOP_FILE exists or a
limit is reached, then prints one JSON line: sent, failed (anything but 200, including
errors and timeouts), the first failures, how many of each answer (status code or error
class), the seconds it ran, the slowest request's
seconds and the longest stretch without a 200 answer (from the start, or the last 200
answer, to the next one).
"""

import json
import os
import sys
import time
import urllib.error
import urllib.request

url, stop_file, max_seconds, max_requests = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
# The name visitors use: Django answers 400 to a Host header it does not know.
host = sys.argv[5]
sent = failed = 0
failures = []
answers = {}
slowest = longest_gap = 0.0
start = last_ok = time.monotonic()
while not os.path.exists(stop_file) and time.monotonic() - start < max_seconds and sent < max_requests:
    began = time.monotonic()
    sent += 1
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Host": host}), timeout=10) as response:
            status = response.status
            response.read()
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:
        status = f"{type(error).__name__}: {error}"
    now = time.monotonic()
    key = str(status) if isinstance(status, int) else status.split(":")[0]
    answers[key] = answers.get(key, 0) + 1
    slowest = max(slowest, now - began)
    if status == 200:
        longest_gap, last_ok = max(longest_gap, now - last_ok), now
    else:
        failed += 1
        if len(failures) < 10:
            failures.append({"at": round(time.monotonic() - start, 2), "status": str(status)})
    time.sleep(max(0.0, 0.05 - (time.monotonic() - began)))
print(
    json.dumps(
        {
            "sent": sent,
            "failed": failed,
            "failures": failures,
            "answers": answers,
            "seconds": round(time.monotonic() - start, 1),
            "slowest": round(slowest, 2),
            "longest_gap": round(longest_gap, 2),
        }
    )
)
