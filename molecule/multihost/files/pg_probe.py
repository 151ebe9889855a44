"""Ask a PostgreSQL server, with a bare startup message, whether it would let a user in.

Usage: pg_probe.py HOST PORT USER DATABASE. Prints one line: "auth" when the server asks
for a password (pg_hba.conf has a rule for this client), "refused: <message>" when it
answers with an error (no rule for this client), "closed" or "unreachable: <reason>".
Only the standard library: the hosts under test need no PostgreSQL client.
"""

import socket
import struct
import sys

host, port, user, database = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
params = b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in (("user", user), ("database", database))) + b"\0"
startup = struct.pack("!ii", 8 + len(params), 196608) + params  # protocol 3.0
try:
    with socket.create_connection((host, port), timeout=5) as conn:
        conn.sendall(startup)
        reply = conn.recv(4096)
except OSError as error:
    print(f"unreachable: {error}")
    sys.exit(0)
if not reply:
    print("closed")
elif reply[:1] == b"R":
    print("auth")
elif reply[:1] == b"E":
    fields = reply[5:].split(b"\0")
    message = next((f[1:].decode(errors="replace") for f in fields if f[:1] == b"M"), "")
    print(f"refused: {message}")
else:
    print(f"unexpected: {reply[:1]!r}")
