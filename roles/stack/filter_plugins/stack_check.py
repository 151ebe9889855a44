"""Filters for check mode on a host where apt cannot check (no python3-apt yet).

The stack role reads dpkg's list once (tasks/check_mode.yml); each role's package task
then names the packages of its list that a run would install. Every role that installs
packages depends on the stack role or runs after it in site.yml.
"""


def stack_installed_packages(lines):
    """Names of the installed packages in `dpkg-query --showformat='${db:Status-Abbrev} ${Package}'` lines.

    The abbreviated status has three letters: wanted, current state, error. A package
    is installed when its current state is 'i' ("ii", "hi"); "rc" (removed, its
    configuration left) and "un" are not.
    """
    names = []
    for line in lines:
        fields = line.split()
        if len(fields) >= 2 and len(fields[0]) >= 2 and fields[0][1] == "i":
            names.append(fields[-1])
    return names


def stack_packages_to_install(wanted, installed):
    """The packages of `wanted` (names as the apt module takes them) not in `installed`.

    A version (`name=1.2`, `name>=1.2`) or an architecture (`name:amd64`) is not part of
    the name dpkg lists; the entry is shown as written.
    """
    have = set(installed)
    missing = []
    for entry in wanted:
        name = str(entry)
        for sep in ("=", ">", "<", ":"):
            name = name.split(sep, 1)[0]
        if name.strip() not in have and entry not in missing:
            missing.append(entry)
    return missing


class FilterModule:
    def filters(self):
        return {
            "stack_installed_packages": stack_installed_packages,
            "stack_packages_to_install": stack_packages_to_install,
        }
