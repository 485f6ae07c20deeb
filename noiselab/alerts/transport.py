"""An httpx transport that connects only to vetted addresses (see :mod:`.url_policy`).

For each request the host name is resolved once, every address it gives is checked, and the
connection goes to the first of them: the URL handed to the connection pool names the
address, while the ``Host`` header and, for ``https``, the TLS server name (SNI, and the name
the certificate is checked against) stay the original host. A name that resolves to a public
address when the rule is saved and to an internal one later (DNS rebinding) is refused at the
delivery, and there is no second lookup between the check and the connection to exploit.

Connections are not kept alive: two host names on one address never share a connection.
"""

from __future__ import annotations

import httpx

from noiselab.alerts.url_policy import (
    AllowList,
    Resolver,
    check_url,
    system_resolver,
    vet_addresses,
)

__all__ = ["VettedTransport"]


class VettedTransport(httpx.BaseTransport):
    """Sends each request to an address of its host that ``allow`` and the policy accept;
    raises :class:`UrlRefused` otherwise (before any connection is made)."""

    def __init__(
        self,
        allow: AllowList = AllowList(),  # noqa: B008 - frozen, empty
        *,
        resolver: Resolver = system_resolver,
        inner: httpx.BaseTransport | None = None,
    ) -> None:
        self._allow, self._resolver = allow, resolver
        self._inner = inner or httpx.HTTPTransport(
            limits=httpx.Limits(max_keepalive_connections=0), retries=0
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Resolve, vet, then send ``request`` to the first vetted address."""
        target = check_url(str(request.url), self._allow)
        if target.address is not None:
            address = target.address
        else:
            try:
                found = self._resolver(target.host, target.port)
            except OSError as exc:
                raise httpx.ConnectError(f"cannot resolve {target.host}: {exc}") from exc
            address = vet_addresses(target.host, found, self._allow)[0]
        extensions = dict(request.extensions)
        if target.scheme == "https":
            extensions["sni_hostname"] = target.host
        pinned = httpx.Request(
            request.method,
            request.url.copy_with(host=str(address)),
            headers=request.headers,  # keeps Host: the original name
            stream=request.stream,
            extensions=extensions,
        )
        return self._inner.handle_request(pinned)

    def close(self) -> None:
        """Close the connection pool."""
        self._inner.close()
