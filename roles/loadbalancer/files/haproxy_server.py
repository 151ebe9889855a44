"""Print one HAProxy server's state as JSON, optionally after waiting for it to be healthy.

  haproxy_server.py SOCKET BACKEND SERVER
      {"found": bool, "status": "UP"|"DOWN"|"DRAIN"|"MAINT"|..., "sessions": int,
       "address": "ip:port"}, read from HAProxy's stats socket ("show stat").
  ... SERVER --until-healthy SECONDS PATH HOST
      first asks http://<address>PATH with that Host header, once a second, until it
      answers 200 or SECONDS have passed; adds "health": the last answer.
  ... SERVER --until-up SECONDS
      reads the state once a second until HAProxy reports the server UP or SECONDS
      have passed.
It only reads, so check mode may run it; the role's drain and enable tasks decide from
its answer. One process waits, instead of one Ansible task per try.
"""
import csv
import http.client
import json
import socket
import sys
import time


def show_stat(path):
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(10)
    client.connect(path)
    client.sendall(b"show stat\n")
    chunks = []
    while True:
        chunk = client.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
    client.close()
    return b"".join(chunks).decode()


def server_state(path, backend, server):
    try:
        text = show_stat(path)
    except OSError as error:
        sys.exit(f"cannot read HAProxy's stats socket {path}: {error}")
    return parse_stat(text, backend, server)


def parse_stat(text, backend, server):
    """One server's state from the CSV that "show stat" answers."""
    for row in csv.DictReader(text.lstrip("# ").splitlines()):
        if row.get("pxname") == backend and row.get("svname") == server:
            return {"found": True, "status": row.get("status", ""),
                    "sessions": int(row.get("scur") or 0), "address": row.get("addr", "")}
    return {"found": False, "status": "", "sessions": 0, "address": ""}


def health(address, url_path, host):
    """The status of one GET, as HAProxy's check sends it, or why there is none."""
    name, _, port = address.rpartition(":")
    try:
        conn = http.client.HTTPConnection(name.strip("[]"), int(port), timeout=2)
        conn.request("GET", url_path, headers={"Host": host})
        status = conn.getresponse().status
        conn.close()
        return status
    except (OSError, http.client.HTTPException, ValueError) as error:
        return str(error) or type(error).__name__


def main():
    path, backend, server = sys.argv[1:4]
    mode = sys.argv[4] if len(sys.argv) > 4 else ""
    deadline = time.monotonic() + (float(sys.argv[5]) if mode else 0)
    state = server_state(path, backend, server)
    if mode == "--until-healthy" and state["found"]:
        while True:
            state["health"] = health(state["address"], sys.argv[6], sys.argv[7])
            if state["health"] == 200 or time.monotonic() >= deadline:
                break
            time.sleep(1)
    elif mode == "--until-up":
        while state["status"] != "UP" and time.monotonic() < deadline:
            time.sleep(1)
            state = server_state(path, backend, server)
    print(json.dumps(state))


# The role runs it with `python3 -c`, which names it __main__ too; the tests import it.
if __name__ == "__main__":
    main()
