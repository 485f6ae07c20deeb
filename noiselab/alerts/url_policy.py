"""Where webhooks may go: the URL policy, checked when a rule is saved and again at each
delivery after the host name is resolved (pure: the resolver is passed in).

A webhook URL must be ``http`` or ``https``, name a host, carry no credentials
(``user:pass@``; the per-rule signing secret authenticates deliveries instead) and be at most
2000 characters. Every address its host stands for must be a public one: refused are
loopback, link-local, private (RFC 1918, ULA ``fc00::/7``), shared (CGNAT ``100.64.0.0/10``),
multicast, unspecified, reserved, broadcast, documentation and benchmarking ranges, and any
IPv6 address that embeds one of those (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible
``::a.b.c.d``, 6to4 ``2002::/16``, NAT64 ``64:ff9b::/96``, Teredo). IPv4 hosts written the
way ``inet_aton`` reads them (``2130706433``, ``0177.0.0.1``, ``0x7f.1``) are normalised
first, so they meet the same rules.

An operator :class:`AllowList` (networks in CIDR form and/or host names) lets chosen
internal receivers through: an address inside an allowed network, or any address of an
allowed host name.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from noiselab.errors import ConfigError, NoiselabError

__all__ = [
    "MAX_URL",
    "AllowList",
    "IPAddress",
    "Resolver",
    "Target",
    "UrlRefused",
    "address_refusal",
    "check_url",
    "check_url_resolved",
    "parse_ip_host",
    "system_resolver",
    "vet_addresses",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]
"""``(host, port) -> addresses`` as text; raises ``OSError`` when the name does not resolve."""

MAX_URL = 2000

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network
_REFUSED: tuple[tuple[IPNetwork, str], ...] = (
    (_V4("0.0.0.0/8"), "unspecified/'this network'"),
    (_V4("10.0.0.0/8"), "private (RFC 1918)"),
    (_V4("100.64.0.0/10"), "shared address space (CGNAT)"),
    (_V4("127.0.0.0/8"), "loopback"),
    (_V4("169.254.0.0/16"), "link-local"),
    (_V4("172.16.0.0/12"), "private (RFC 1918)"),
    (_V4("192.0.0.0/24"), "reserved (IETF protocol assignments)"),
    (_V4("192.0.2.0/24"), "reserved (documentation)"),
    (_V4("192.88.99.0/24"), "reserved (6to4 relay)"),
    (_V4("192.168.0.0/16"), "private (RFC 1918)"),
    (_V4("198.18.0.0/15"), "reserved (benchmarking)"),
    (_V4("198.51.100.0/24"), "reserved (documentation)"),
    (_V4("203.0.113.0/24"), "reserved (documentation)"),
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("255.255.255.255/32"), "broadcast"),
    (_V4("240.0.0.0/4"), "reserved"),
    (_V6("::/128"), "unspecified"),
    (_V6("::1/128"), "loopback"),
    (_V6("100::/64"), "reserved (discard)"),
    (_V6("64:ff9b:1::/48"), "reserved (local NAT64)"),
    (_V6("2001:db8::/32"), "reserved (documentation)"),
    (_V6("2001:10::/28"), "reserved (ORCHID)"),
    (_V6("fc00::/7"), "private (unique local)"),
    (_V6("fe80::/10"), "link-local"),
    (_V6("fec0::/10"), "reserved (site-local)"),
    (_V6("ff00::/8"), "multicast"),
)
_NAT64 = _V6("64:ff9b::/96")
_COMPATIBLE = _V6("::/96")


class UrlRefused(NoiselabError):  # noqa: N818 - reads as what happened to the URL
    """A webhook URL, or an address its host resolves to, is not allowed; the message says
    why (and never repeats credentials)."""


@dataclass(frozen=True, slots=True)
class AllowList:
    """Internal receivers the operator allows: ``networks`` (addresses inside pass) and
    ``hosts`` (lower-case names whose every address passes)."""

    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        """From setting values: each a CIDR (``10.1.2.0/24``), an address (``127.0.0.1``) or
        a host name (``hooks.internal``); commas separate several in one value. Raises
        ``ConfigError`` naming a bad entry."""
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for value in entries:
            for raw in value.split(","):
                entry = raw.strip().lower()
                if not entry:
                    continue
                try:
                    networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                    continue
                except ValueError:
                    pass
                if "/" in entry or not _is_host_name(entry):
                    raise ConfigError(
                        f"webhook allow-list entry {raw.strip()!r}: not a CIDR or host"
                    )
                hosts.add(entry.rstrip("."))
        return cls(tuple(networks), frozenset(hosts))

    def allows(self, host: str, address: IPAddress) -> bool:
        """Whether ``address`` (of ``host``) is let through despite the rules."""
        if host.lower().rstrip(".") in self.hosts:
            return True
        return any(address.version == net.version and address in net for net in self.networks)


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL: ``host`` lower-case (an IP literal in its normal form, IPv6 without
    brackets), ``port`` explicit, ``address`` set when the host is an IP literal."""

    scheme: str
    host: str
    port: int
    address: IPAddress | None

    @property
    def origin(self) -> str:
        """``scheme://host:port``: what logs and notes show (never the path or query)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses ``getaddrinfo`` gives for ``host`` (TCP), in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def check_url(url: str, allow: AllowList = AllowList()) -> Target:
    """The static part of the policy (no network): scheme, host, credentials, length, and
    the address when the host is an IP literal in any form. Raises :class:`UrlRefused`."""
    if len(url) > MAX_URL or "\x00" in url or any(ch.isspace() for ch in url):
        raise UrlRefused(f"webhook_url must be at most {MAX_URL} characters, without spaces")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused(f"webhook_url is not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise UrlRefused("webhook_url must be an http:// or https:// URL")
    if "@" in parts.netloc:
        raise UrlRefused(
            "webhook_url must not carry credentials (user:password@): deliveries are signed "
            "with the rule's secret instead"
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UrlRefused("webhook_url must name a host")
    address = parse_ip_host(host)
    target = Target(
        scheme=parts.scheme,
        host=str(address) if address is not None else host,
        port=port if port is not None else (443 if parts.scheme == "https" else 80),
        address=address,
    )
    if address is None and not _is_host_name(host):
        raise UrlRefused(f"webhook_url host {host[:80]!r} is not a valid host name")
    if address is not None:
        vet_addresses(target.host, [address], allow)
    return target


def check_url_resolved(
    url: str,
    allow: AllowList = AllowList(),
    resolver: Resolver = system_resolver,
) -> Target:
    """:func:`check_url`, then the addresses the host resolves to now, as when a rule is
    saved. A name that does not resolve (yet) passes: each delivery resolves and checks it
    again, and refuses what then points inside."""
    target = check_url(url, allow)
    if target.address is None:
        try:
            found = resolver(target.host, target.port)
        except (OSError, UnicodeError):
            return target
        vet_addresses(target.host, found, allow)
    return target


def parse_ip_host(host: str) -> IPAddress | None:
    """The address a URL host stands for when it is an IP literal, else ``None``.

    IPv6 as written (brackets removed, a zone ``%eth0`` is refused as not global anyway);
    IPv4 as ``inet_aton`` reads it: one to four parts, each decimal, octal (leading ``0``) or
    hex (``0x``), the last filling the remaining bytes (``2130706433`` = ``127.0.0.1``,
    ``0x7f.1`` = ``127.0.0.1``)."""
    text = host.strip("[]").lower()
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text.split("%", 1)[0])
        except ValueError:
            return None
    parts = text.split(".")
    if text.endswith(".") or not 1 <= len(parts) <= 4:
        return None
    numbers: list[int] = []
    for part in parts:
        number = _inet_number(part)
        if number is None:
            return None
        numbers.append(number)
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = 0
    for n in head:
        value = value * 256 + n
    return ipaddress.IPv4Address(value * 256 ** (4 - len(head)) + last)


def _inet_number(part: str) -> int | None:
    try:
        if part.startswith("0x"):
            return int(part[2:], 16) if part[2:] else 0
        if len(part) > 1 and part.startswith("0"):
            return int(part[1:], 8)
        return int(part, 10) if part.isdigit() else None
    except ValueError:
        return None


def address_refusal(address: IPAddress) -> str | None:
    """Why ``address`` is no place for a webhook (``"loopback"``...), or ``None`` for a
    public address. IPv6 addresses that embed an IPv4 one are judged by it too."""
    for network, reason in _REFUSED:
        if address.version == network.version and address in network:
            return reason
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_v4(address)
        if embedded is not None:
            inner = address_refusal(embedded)
            return None if inner is None else f"{inner}, embedded in IPv6 {address}"
    if not address.is_global:
        return "not a globally routable address"
    return None


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64 or address in _COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def vet_addresses(
    host: str,
    addresses: Iterable[str | IPAddress],
    allow: AllowList = AllowList(),
) -> list[IPAddress]:
    """The addresses of ``host``, each checked: raises :class:`UrlRefused` when there are none
    or any one is refused and not allowed (one bad address refuses them all, so a name that
    resolves to a public and a private address cannot be used to reach the private one)."""
    vetted: list[IPAddress] = []
    for raw in addresses:
        address = raw if not isinstance(raw, str) else ipaddress.ip_address(raw.split("%", 1)[0])
        reason = address_refusal(address)
        if reason is not None and not allow.allows(host, address):
            shown = host if host == str(address) else f"{host} ({address})"
            raise UrlRefused(
                f"webhook host {shown} is {reason}: refused (an operator may allow it with "
                "NOISELAB_WEBHOOK_ALLOW)"
            )
        if address not in vetted:
            vetted.append(address)
    if not vetted:
        raise UrlRefused(f"webhook host {host} resolves to no address")
    return vetted


def _is_host_name(host: str) -> bool:
    labels = host.rstrip(".").split(".")
    return len(host) <= 253 and all(
        0 < len(label) <= 63
        and not label.startswith("-")
        and not label.endswith("-")
        and all(ch.isalnum() or ch in "-_" for ch in label)
        for label in labels
    )
