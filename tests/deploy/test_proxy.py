"""The compose stack's reverse proxy (deploy/nginx/noiselab.conf), run in the real nginx.

Debian's nginx loads the file inside a minimal main configuration, as the nginx image does,
with only the certificate and webroot paths, the two listening ports and the two upstreams
(``api:8000`` and ``grafana:3000``, names of the compose network) rewritten to a temp
directory, free ports and two echo servers on loopback. The certificate is made by
deploy/mosquitto/make-certs.sh. Checked over real HTTP(S): the security headers, the body size
limit (413 before the upstream sees anything), X-Forwarded-For replaced by the peer's address,
Grafana's sub-path, the HTTP to HTTPS redirect, the ACME webroot and the per-address limit.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support.paths import ROOT

from noiselab.broker import free_port

pytestmark = pytest.mark.process

CONF = ROOT / "deploy" / "nginx" / "noiselab.conf"
SECURITY_HEADERS = {
    "strict-transport-security": "max-age=31536000",
    "x-content-type-options": "nosniff",
    "x-frame-options": "SAMEORIGIN",
    "referrer-policy": "strict-origin-when-cross-origin",
}


def _nginx() -> str:
    tool = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if tool is None:
        assert not os.environ.get("CI"), "nginx is missing: bash scripts/test installs it"
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    return tool


class _Echo(BaseHTTPRequestHandler):
    """Answers every request with its method, path, headers and body length as JSON."""

    seen: list[dict[str, object]]

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        record = {
            "method": self.command,
            "path": self.path,
            "headers": {name.lower(): value for name, value in self.headers.items()},
            "body": length,
        }
        self.seen.append(record)
        body = json.dumps(record).encode()
        self.send_response(404 if self.path.endswith("/missing") else 200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer  # noqa: N815 (the names http.server calls)

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class Proxy:
    http_port: int
    https_port: int
    ca: Path
    api_seen: list[dict[str, object]]
    grafana_seen: list[dict[str, object]]
    webroot: Path

    def connect(self) -> http.client.HTTPSConnection:
        context = ssl.create_default_context(cafile=str(self.ca))
        return http.client.HTTPSConnection(
            "localhost", self.https_port, context=context, timeout=10
        )

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        conn = self.connect()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return (
                response.status,
                {name.lower(): value for name, value in response.getheaders()},
                response.read(),
            )
        finally:
            conn.close()


def _echo_server(seen: list[dict[str, object]]) -> ThreadingHTTPServer:
    handler = type("Echo", (_Echo,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _site_config(tmp_path: Path, http_port: int, https_port: int, api: int, grafana: int) -> str:
    text = CONF.read_text()
    replacements = {
        "listen 80 default_server;": f"listen 127.0.0.1:{http_port} default_server;",
        "listen 443 ssl default_server;": f"listen 127.0.0.1:{https_port} ssl default_server;",
        "listen [::]:80 default_server;": "",
        "listen [::]:443 ssl default_server;": "",
        "/etc/nginx/tls/": f"{tmp_path}/tls/",
        "/var/www/acme": f"{tmp_path}/acme",
        "http://api:8000": f"http://127.0.0.1:{api}",
        "http://grafana:3000": f"http://127.0.0.1:{grafana}",
    }
    for old, new in replacements.items():
        assert old in text, f"{old!r} is gone from {CONF.name}"
        text = text.replace(old, new)
    return text


def _main_config(tmp_path: Path, site: Path) -> Path:
    main = tmp_path / "nginx.conf"
    user = "user root;\n" if os.geteuid() == 0 else ""
    main.write_text(
        f"{user}daemon off;\nerror_log {tmp_path}/error.log;\npid {tmp_path}/nginx.pid;\n"
        f"events {{}}\nhttp {{ access_log off; include {site}; }}\n"
    )
    return main


def _make_certs(tmp_path: Path) -> Path:
    certs = tmp_path / "certs"
    subprocess.run(
        ["sh", str(ROOT / "deploy/mosquitto/make-certs.sh"), str(certs), "localhost"],
        check=True,
        capture_output=True,
    )
    (tmp_path / "tls").mkdir()
    shutil.copy(certs / "server.crt", tmp_path / "tls" / "fullchain.pem")
    shutil.copy(certs / "server.key", tmp_path / "tls" / "privkey.pem")
    return certs / "ca.crt"


def _check(nginx: str, tmp_path: Path, main: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(main)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[Proxy]:
    nginx = _nginx()
    ca = _make_certs(tmp_path)
    (tmp_path / "acme" / ".well-known" / "acme-challenge").mkdir(parents=True)
    api_seen: list[dict[str, object]] = []
    grafana_seen: list[dict[str, object]] = []
    api, grafana = _echo_server(api_seen), _echo_server(grafana_seen)
    http_port, https_port = free_port(), free_port()
    site = tmp_path / "site.conf"
    site.write_text(
        _site_config(
            tmp_path, http_port, https_port, api.server_address[1], grafana.server_address[1]
        )
    )
    main = _main_config(tmp_path, site)
    checked = _check(nginx, tmp_path, main)
    assert checked.returncode == 0, checked.stderr
    with (tmp_path / "nginx.log").open("wb") as log:
        proc = subprocess.Popen(
            [nginx, "-p", str(tmp_path), "-c", str(main)], stdout=log, stderr=log
        )
    try:
        _wait_for(https_port)
        yield Proxy(http_port, https_port, ca, api_seen, grafana_seen, tmp_path / "acme")
    finally:
        proc.terminate()
        proc.wait(10)
        for server in (api, grafana):
            server.shutdown()
            server.server_close()


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nginx did not listen on {port}")


@pytest.mark.parametrize("breakage", ["no semicolon", "unknown directive"])
def test_nginx_rejects_a_broken_copy_of_the_config(tmp_path: Path, breakage: str) -> None:
    """Negative control of ``nginx -t``: the fixture's check can fail."""
    nginx = _nginx()
    _make_certs(tmp_path)
    text = _site_config(tmp_path, free_port(), free_port(), 1, 2)
    if breakage == "no semicolon":
        text = text.replace("server_tokens off;", "server_tokens off")
    else:
        text = text.replace("server_tokens off;", "server_tokens off;\nproxy_bogus on;")
    site = tmp_path / "site.conf"
    site.write_text(text)
    result = _check(nginx, tmp_path, _main_config(tmp_path, site))
    assert result.returncode != 0
    assert "emerg" in result.stderr


def test_the_api_gets_the_peer_address_not_the_clients_forwarded_header(proxy: Proxy) -> None:
    status, headers, body = proxy.request(
        "GET",
        "/api/v1/map?x=1",
        headers={"X-Forwarded-For": "203.0.113.9", "Forwarded": "for=203.0.113.9"},
    )
    assert status == 200
    seen = json.loads(body)
    assert seen["path"] == "/api/v1/map?x=1"
    assert seen["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert seen["headers"]["x-real-ip"] == "127.0.0.1"
    assert seen["headers"]["x-forwarded-proto"] == "https"
    assert seen["headers"]["host"] == "localhost"
    assert "forwarded" not in seen["headers"]
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, name
    assert "server" not in headers or "/" not in headers["server"]  # no version


def test_security_headers_are_on_errors_too(proxy: Proxy) -> None:
    status, headers, _ = proxy.request("GET", "/missing")
    assert status == 404
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, name


def test_grafana_is_served_under_its_sub_path(proxy: Proxy) -> None:
    status, _, body = proxy.request(
        "GET", "/grafana/api/health?a=b", headers={"X-Forwarded-For": "198.51.100.1"}
    )
    assert status == 200
    seen = json.loads(body)
    assert seen["path"] == "/api/health?a=b"
    assert seen["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert seen["headers"]["x-forwarded-proto"] == "https"
    assert proxy.api_seen == []
    status, headers, _ = proxy.request("GET", "/grafana")
    assert status == 301
    assert headers["location"].endswith("/grafana/")


def test_a_body_over_the_limit_is_refused_before_the_api(proxy: Proxy) -> None:
    status, headers, _ = proxy.request("POST", "/api/v1/trials", body=b"x" * (2 * 1024 * 1024))
    assert status == 413
    assert headers.get("x-content-type-options") == "nosniff"
    assert proxy.api_seen == []
    # Negative control: a body under the limit goes through.
    status, _, body = proxy.request("POST", "/api/v1/trials", body=b"x" * (512 * 1024))
    assert status == 200
    assert json.loads(body)["body"] == 512 * 1024


def test_plain_http_redirects_to_https_except_acme_challenges(proxy: Proxy) -> None:
    token = proxy.webroot / ".well-known" / "acme-challenge" / "tok-123"
    token.write_text("tok-123.thumbprint")
    conn = http.client.HTTPConnection("127.0.0.1", proxy.http_port, timeout=10)
    conn.request("GET", "/api/v1/map?x=1", headers={"Host": "noise.example.org"})
    response = conn.getresponse()
    response.read()
    assert response.status == 301
    assert response.getheader("location") == "https://noise.example.org/api/v1/map?x=1"
    conn.request("GET", "/.well-known/acme-challenge/tok-123")
    response = conn.getresponse()
    assert response.status == 200
    assert response.read() == b"tok-123.thumbprint"
    conn.close()
    assert proxy.api_seen == []


def test_the_per_address_limit_answers_429(proxy: Proxy) -> None:
    conn = proxy.connect()
    statuses = []
    started = time.monotonic()
    for _ in range(400):
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        response.read()
        statuses.append(response.status)
    elapsed = time.monotonic() - started
    conn.close()
    passed = statuses.count(200)
    assert set(statuses) <= {200, 429}
    assert statuses.count(429) > 0
    # burst 120 plus 30 per second, and a request of slack for the timing
    assert passed <= 120 + 30 * elapsed + 2, (passed, elapsed)
