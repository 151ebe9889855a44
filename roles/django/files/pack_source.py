#!/usr/bin/env python3
"""Fingerprint a Django project directory and pack it for upload (control node side).

    pack_source.py SOURCE_DIR CACHE_DIR [--exclude PATTERN ...] [--requirement RELATIVE_PATH ...]
                   [--inline-max BYTES]

Prints JSON: {"id": <12 hex digits>, "archive": <path of a .tar.gz>, "files": <count>,
"requirements": <django_stack_requirements.py's document for the --requirement entries>,
"inline": <path of the archive in base64, or null>}
(the requirements name the release's virtualenv without asking the host; a file that is
not shipped counts as missing). An archive of at
most --inline-max bytes (default 0: none) is also written in base64, a text file that
Ansible can read into the command that unpacks it on the host. The id is a hash of
every shipped file's relative path, mode and content, so the same code always gives the
same release id and any change gives a new one. The archive is written only when it is
not in CACHE_DIR already.
"""

import argparse
import base64
import fnmatch
import hashlib
import json
import os
import sys
import tarfile
import tempfile

# Beside this script in the role's files/: the same reading as on the host (git sources).
from django_stack_requirements import scan


def shipped_files(root, patterns):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not excluded(d, patterns))
        for name in sorted(filenames):
            if not excluded(name, patterns):
                path = os.path.join(dirpath, name)
                yield os.path.relpath(path, root), path


def excluded(name, patterns):
    return any(fnmatch.fnmatch(name, p) for p in patterns)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    parser.add_argument("cache")
    parser.add_argument("--exclude", action="append", default=[])
    parser.add_argument("--requirement", action="append", default=[])
    parser.add_argument("--inline-max", type=int, default=0)
    args = parser.parse_args()
    if not os.path.isfile(os.path.join(args.source, "manage.py")):
        sys.exit(f"pack_source: {args.source} holds no manage.py")

    files = list(shipped_files(args.source, args.exclude))
    digest = hashlib.sha256()
    for rel, path in files:
        executable = os.access(path, os.X_OK)
        digest.update(f"{rel}\0{int(executable)}\0".encode())
        with open(path, "rb") as handle:
            content = hashlib.sha256(handle.read())
        digest.update(content.digest())
    release_id = digest.hexdigest()[:12]
    requirements = scan(args.source, args.requirement)
    shipped = {rel for rel, _ in files}
    requirements["missing"] += [path for path, _ in requirements["files"] if path not in shipped]
    requirements["files"] = [[path, sha] for path, sha in requirements["files"] if path in shipped]

    os.makedirs(args.cache, mode=0o700, exist_ok=True)
    archive = os.path.join(args.cache, f"{release_id}.tar.gz")
    if not os.path.exists(archive):
        # A temporary file of its own: several runs may pack the same release at once.
        fd, partial = tempfile.mkstemp(dir=args.cache, prefix=f".{release_id}.", suffix=".partial")
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for rel, path in files:
                info = tar.gettarinfo(path, arcname=rel)
                # Owned by root and not writable by the application on the host.
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
                with open(path, "rb") as handle:
                    tar.addfile(info, handle)
        os.replace(partial, archive)
    inline = None
    if os.path.getsize(archive) <= args.inline_max:
        inline = archive + ".b64"
        if not os.path.exists(inline):
            fd, partial = tempfile.mkstemp(dir=args.cache, prefix=f".{release_id}.", suffix=".partial")
            with os.fdopen(fd, "wb") as out, open(archive, "rb") as raw:
                out.write(base64.b64encode(raw.read()))
            os.replace(partial, inline)
    print(json.dumps({"id": release_id, "archive": archive, "files": len(files), "requirements": requirements,
                      "inline": inline}))


if __name__ == "__main__":
    main()
