"""The webhook URL policy (pure): every internal address form refused, credentials refused,
public addresses and allow-listed internal ones let through."""

from __future__ import annotations

import ipaddress

import pytest

from noiselab.alerts.url_policy import (
    AllowList,
    UrlRefused,
    address_refusal,
    check_url,
    check_url_resolved,
    parse_ip_host,
    vet_addresses,
)
from noiselab.errors import ConfigError

INTERNAL = [
    ("http://127.0.0.1:8000/api/v1/keys", "loopback"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[::1]:8000/", "loopback"),
    ("http://2130706433/", "loopback"),  # decimal 127.0.0.1
    ("http://0177.0.0.1/", "loopback"),  # octal
    ("http://0x7f.0.0.1/", "loopback"),  # hex
    ("http://0x7f000001/", "loopback"),
    ("http://127.1/", "loopback"),  # inet_aton's short form
    ("http://0251.0376.0251.0376/", "link-local"),  # octal 169.254.169.254
    ("http://[::ffff:127.0.0.1]/", "loopback"),  # IPv4-mapped
    ("http://[::ffff:a9fe:a9fe]/", "link-local"),
    ("http://[::127.0.0.1]/", "loopback"),  # IPv4-compatible
    ("http://[2002:7f00:1::]/", "loopback"),  # 6to4 of 127.0.0.1
    ("http://[64:ff9b::a9fe:a9fe]/", "link-local"),  # NAT64 of 169.254.169.254
    ("http://10.1.2.3/", "private"),
    ("http://172.16.0.1/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://100.64.0.1/", "CGNAT"),
    ("http://224.0.0.1/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://255.255.255.255/", "broadcast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://[fc00::1]/", "private"),
    ("http://[fd12:3456::1]/", "private"),
    ("http://[fe80::1]/", "link-local"),
]
PUBLIC = [
    "https://93.184.216.34/hook",
    "https://[2606:4700:4700::1111]/hook",
    "https://hooks.example.org/noise?channel=7",
    "http://1.1.1.1:8080/",
    "http://[2002:5db8:d822::]/",  # 6to4 of the public 93.184.216.34
]


@pytest.mark.parametrize(("url", "reason"), INTERNAL)
def test_internal_addresses_are_refused_in_every_form(url: str, reason: str) -> None:
    with pytest.raises(UrlRefused, match=reason):
        check_url(url)


@pytest.mark.parametrize("url", PUBLIC)
def test_public_addresses_pass(url: str) -> None:
    """Negative control for the refusals: the same checks let public addresses through."""
    assert check_url(url).scheme in ("http", "https")


@pytest.mark.parametrize(
    "url",
    [
        "http://alice:s3cr3t-pw@hooks.example.org/",
        "https://s3cr3t-pw@hooks.example.org/",
        "https://:s3cr3t-pw@hooks.example.org/",
    ],
)
def test_credentials_are_refused_and_not_repeated(url: str) -> None:
    with pytest.raises(UrlRefused, match="credentials") as refused:
        check_url(url)
    assert "s3cr3t-pw" not in str(refused.value)


@pytest.mark.parametrize(
    "url",
    ["ftp://hooks.example.org/", "file:///etc/passwd", "gopher://x/", "http:///nohost", "x"],
)
def test_only_http_urls_with_a_host(url: str) -> None:
    with pytest.raises(UrlRefused):
        check_url(url)


def test_decimal_octal_and_hex_hosts_are_normalised() -> None:
    """``inet_aton`` reading: 2130706433 = 0x7f000001 = 127.0.0.1; 127.1 = 127.0.0.1;
    0300.0250.1.1 = 192.168.1.1; a name with letters is no address."""
    loopback = ipaddress.IPv4Address("127.0.0.1")
    for host in ("2130706433", "0x7f000001", "0177.0.0.01", "127.1", "0x7f.0x0.0.1"):
        assert parse_ip_host(host) == loopback
    assert parse_ip_host("0300.0250.1.1") == ipaddress.IPv4Address("192.168.1.1")
    assert check_url("http://2130706433:9/", AllowList.parse(["127.0.0.1"])).host == "127.0.0.1"
    for name in ("hooks.example.org", "1.2.3.4.5", "256.1.1.1", "08.1.1.1", "localhost"):
        assert parse_ip_host(name) is None


def test_an_allow_list_lets_named_networks_and_hosts_through() -> None:
    allow = AllowList.parse(["127.0.0.0/8, 10.20.0.0/16", "hooks.internal"])
    assert check_url("http://127.0.0.1:9/hook", allow).address is not None
    assert check_url("http://2130706433:9/hook", allow).host == "127.0.0.1"
    assert vet_addresses("hooks.internal", ["192.168.7.7"], allow)
    assert vet_addresses("x.example", ["10.20.3.4"], allow)
    with pytest.raises(UrlRefused, match="private"):
        vet_addresses("x.example", ["10.21.3.4"], allow)  # outside the allowed /16
    with pytest.raises(UrlRefused, match="link-local"):
        check_url("http://169.254.169.254/", allow)


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "not a host!", "http://x/"])
def test_a_bad_allow_list_entry_is_a_config_error(entry: str) -> None:
    with pytest.raises(ConfigError, match="allow-list"):
        AllowList.parse([entry])


def test_one_internal_address_among_public_ones_refuses_the_host() -> None:
    with pytest.raises(UrlRefused, match=r"rebind\.example \(127\.0\.0\.1\) is loopback"):
        vet_addresses("rebind.example", ["93.184.216.34", "127.0.0.1"])
    assert vet_addresses("ok.example", ["93.184.216.34", "2606:4700::1111"])
    with pytest.raises(UrlRefused, match="no address"):
        vet_addresses("empty.example", [])


def test_saving_resolves_the_host_name() -> None:
    """``localhost`` (resolved by the system) is refused; a name the resolver cannot find
    passes for now (the delivery checks it again); a public answer passes."""
    with pytest.raises(UrlRefused, match="loopback"):
        check_url_resolved("http://localhost:8000/api/v1/keys")

    def nowhere(host: str, port: int) -> list[str]:
        raise OSError("no such name")

    assert check_url_resolved("https://later.example/", resolver=nowhere).host == "later.example"
    assert check_url_resolved("https://ok.example/", resolver=lambda h, p: ["93.184.216.34"])
    with pytest.raises(UrlRefused, match="private"):
        check_url_resolved("https://in.example/", resolver=lambda h, p: ["10.0.0.5"])


def test_every_refused_range_has_a_reason_and_public_ones_none() -> None:
    assert address_refusal(ipaddress.ip_address("8.8.8.8")) is None
    assert address_refusal(ipaddress.ip_address("2001:4860:4860::8888")) is None
    assert address_refusal(ipaddress.ip_address("192.0.2.1")) == "reserved (documentation)"
    assert "embedded in IPv6" in str(address_refusal(ipaddress.ip_address("::ffff:10.0.0.1")))
