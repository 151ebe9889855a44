#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Put a list of files, directories and links in place in one module run."""

from __future__ import annotations

DOCUMENTATION = r"""
module: stack_files
short_description: Put several files, directories and links in place in one module run
description:
  - The django-stack roles write their configuration with this module instead of one
    M(ansible.builtin.template) or M(ansible.builtin.file) task per path. A template
    task starts two modules on the host (stat, then copy) plus a transfer, about 1.1 s
    each on the project's test containers, so eight templates took about nine seconds
    on a first run. This module starts once for all of them, in about half a second.
  - Each item is compared first; only what differs is written. A file is written to a
    temporary file in the same directory and renamed over the old one, so a reader
    never sees half of it.
  - Check mode writes nothing and reports what would change; with C(--diff) each changed
    path gets its own diff.
  - Render templates on the control node with the P(ansible.builtin.template#lookup)
    lookup and pass the result as O(items[].content).
options:
  items:
    description: What to put in place, in order (a directory before the files in it).
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description:
          - Absolute path on the host. For V(file), a link there is followed and its
            target written.
        type: path
        required: true
      state:
        description:
          - V(file) writes O(items[].content); V(directory) creates the directory and
            any missing parent; V(link) makes a symbolic link to O(items[].src),
            replacing a link that points elsewhere atomically; V(absent) removes a file
            or a link (never a directory).
        type: str
        choices: [file, directory, link, absent]
        default: file
      content:
        description: The file's text (required for V(file)).
        type: str
      src:
        description: Where the link points (required for V(link)).
        type: str
      owner:
        description: Owner of a file or directory.
        type: str
      group:
        description: Group of a file or directory.
        type: str
      mode:
        description: Mode of a file or directory, as a quoted octal string such as C("0644").
        type: str
author: django-stack
"""

EXAMPLES = r"""
- name: Configure the service
  stack_files:
    items:
      - path: /etc/example
        state: directory
        owner: root
        group: root
        mode: "0755"
      - path: /etc/example/example.conf
        content: "{{ lookup('ansible.builtin.template', 'example.conf.j2') }}"
        owner: root
        group: root
        mode: "0644"
  notify: Restart example
"""

RETURN = r"""
changed_paths:
  description: The paths that were (in check mode, would be) created, changed or removed.
  type: list
  elements: str
  returned: always
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text

# Larger files are compared and written, but shown in a diff only by name.
DIFF_LIMIT = 128 * 1024


def _attributes(module, item):
    """The owner, group and mode arguments of one item, as the file helpers take them."""
    return module.load_file_common_arguments(
        {"path": item["path"], "owner": item["owner"], "group": item["group"], "mode": item["mode"]},
        path=item["path"],
    )


def _set_attributes(module, item, diff):
    """Set owner, group and mode where they differ; True when something (would) change."""
    return module.set_fs_attributes_if_different(_attributes(module, item), False, diff=diff)


def _file(module, item):
    """Write one file when its content differs; returns (changed, diff)."""
    path = item["path"]
    if item["content"] is None:
        module.fail_json(msg="stack_files: %s: state file needs content" % path)
    wanted = to_bytes(item["content"], errors="surrogate_or_strict")
    diff = {"before_header": path, "after_header": path, "before": "", "after": ""}

    # A link is written through: Debian 13's /etc/default/locale, say, is a link to
    # /etc/locale.conf, which systemd reads, and both must keep saying the same.
    if os.path.islink(path):
        path = os.path.realpath(path)
        item = dict(item, path=path)
        diff["after_header"] = path
    if os.path.lexists(path) and not os.path.isfile(path):
        module.fail_json(msg="stack_files: %s exists and is not a regular file" % path)
    exists = os.path.exists(path)
    current = b""
    if exists:
        with open(path, "rb") as handle:
            current = handle.read()
    content_changed = not exists or current != wanted
    if content_changed:
        if len(current) + len(wanted) <= DIFF_LIMIT:
            diff["before"] = to_text(current, errors="surrogate_or_strict")
            diff["after"] = to_text(wanted, errors="surrogate_or_strict")
        else:
            diff["after"] = "(%d bytes, too large to show)\n" % len(wanted)

    if not exists and module.check_mode:
        # Nothing to compare the owner and mode with; the file would get them.
        return True, diff
    if not os.path.isdir(os.path.dirname(path)):
        module.fail_json(msg="stack_files: the directory of %s does not exist" % path)

    if content_changed and not module.check_mode:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".stack_files.")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(wanted)
            # The new file gets the wanted owner and mode before it replaces the old one,
            # so a secret is never readable by others, not even for a moment.
            module.set_fs_attributes_if_different(
                _attributes(module, dict(item, path=tmp)), False, expand=False
            )
            # A rename within one directory is atomic. (AnsibleModule.atomic_move would
            # reset a new file's mode from the umask after the rename.)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    attributes = {"before": {"path": path}, "after": {"path": path}}
    attributes_changed = _set_attributes(module, item, attributes)
    # A text diff when the content changed, else what changed of owner, group and mode.
    return content_changed or attributes_changed, diff if content_changed else attributes


def _directory(module, item):
    """Create a directory (and missing parents) or fix its owner and mode."""
    path = item["path"]
    diff = {"before": {"path": path}, "after": {"path": path}}
    if os.path.lexists(path) and not os.path.isdir(path):
        module.fail_json(msg="stack_files: %s exists and is not a directory" % path)
    if os.path.isdir(path):
        return _set_attributes(module, item, diff), diff

    diff["before"]["state"] = "absent"
    diff["after"]["state"] = "directory"
    if module.check_mode:
        return True, diff
    # Like the file module: each directory created here gets the item's owner and mode.
    missing = []
    current = path
    while not os.path.isdir(current):
        missing.append(current)
        current = os.path.dirname(current)
    for created in reversed(missing):
        try:
            os.mkdir(created)
        except OSError as err:
            module.fail_json(msg="stack_files: cannot create %s: %s" % (created, to_native(err)))
        _set_attributes(module, dict(item, path=created), None)
    return True, diff


def _link(module, item):
    """Point a symbolic link at src, replacing a link that points elsewhere atomically."""
    path, src = item["path"], item["src"]
    if not src:
        module.fail_json(msg="stack_files: %s: state link needs src" % path)
    diff = {"before": {"path": path}, "after": {"path": path, "src": src}}
    if os.path.islink(path):
        current = os.readlink(path)
        if current == src:
            return False, diff
        diff["before"]["src"] = current
    elif os.path.lexists(path):
        module.fail_json(msg="stack_files: %s exists and is not a link" % path)
    else:
        diff["before"]["state"] = "absent"
    if module.check_mode:
        return True, diff
    if not os.path.isdir(os.path.dirname(path)):
        module.fail_json(msg="stack_files: the directory of %s does not exist" % path)
    tmp = os.path.join(os.path.dirname(path), ".stack_files.%d.%s" % (os.getpid(), os.path.basename(path)))
    os.symlink(src, tmp)
    try:
        os.rename(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
    return True, diff


def _absent(module, item):
    """Remove a file or a link; a directory is refused rather than removed with its content."""
    path = item["path"]
    diff = {"before": {"path": path}, "after": {"path": path, "state": "absent"}}
    if not os.path.lexists(path):
        return False, diff
    if os.path.isdir(path) and not os.path.islink(path):
        module.fail_json(msg="stack_files: %s is a directory; state absent removes only files and links" % path)
    diff["before"]["state"] = "link" if os.path.islink(path) else "file"
    if not module.check_mode:
        os.unlink(path)
    return True, diff


HANDLERS = {"file": _file, "directory": _directory, "link": _link, "absent": _absent}


def main():
    module = AnsibleModule(
        argument_spec={
            "items": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "path": {"type": "path", "required": True},
                    "state": {"type": "str", "default": "file", "choices": list(HANDLERS)},
                    "content": {"type": "str"},
                    "src": {"type": "str"},
                    "owner": {"type": "str"},
                    "group": {"type": "str"},
                    "mode": {"type": "str"},
                },
            },
        },
        supports_check_mode=True,
    )
    changed_paths = []
    diffs = []
    for item in module.params["items"]:
        if not os.path.isabs(item["path"]):
            module.fail_json(msg="stack_files: the path %s is not absolute" % item["path"])
        changed, diff = HANDLERS[item["state"]](module, item)
        if changed:
            changed_paths.append(item["path"])
            diffs.append(diff)
    module.exit_json(changed=bool(changed_paths), changed_paths=changed_paths, diff=diffs)


if __name__ == "__main__":
    main()
