"""Address checks for the roles' input validation, with Python's ipaddress module.

ansible.utils.ipaddr gives the same answers but imports netaddr in every task that
uses it, which cost 0.4 to 0.6 s per check on each run. Every role that validates
addresses depends on the stack role, which makes these filters available to it.

A bare number is never an address here ('10' is not 0.0.0.10): an entry must be a
string written with dots or colons.
"""

import ipaddress


def _parses(parse, value):
    if not isinstance(value, str) or not any(sep in value for sep in ".:"):
        return False
    try:
        parse(value)
    except ValueError:
        return False
    return True


def stack_not_addresses(values):
    """The entries that are not single IP addresses (v4 or v6, no prefix)."""
    return [value for value in values if not _parses(ipaddress.ip_address, value)]


def stack_not_networks(values):
    """The entries that are neither an IP address nor a CIDR network."""
    return [value for value in values if not _parses(lambda v: ipaddress.ip_network(v, strict=False), value)]


def stack_network_prefix(value):
    """An address or network as network/prefix: 192.0.2.7 -> 192.0.2.7/32,
    192.0.2.7/24 -> 192.0.2.0/24."""
    return str(ipaddress.ip_network(value, strict=False))


class FilterModule:
    def filters(self):
        return {
            "stack_not_addresses": stack_not_addresses,
            "stack_not_networks": stack_not_networks,
            "stack_network_prefix": stack_network_prefix,
        }
