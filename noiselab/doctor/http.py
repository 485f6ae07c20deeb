"""HTTP requests of the InfluxDB and Grafana checks: one client with a time limit on every call,
transport errors turned into :class:`~noiselab.doctor.check.CheckFailed`."""

from __future__ import annotations

from typing import Any

import httpx

from noiselab.doctor.check import CheckFailed

__all__ = ["HttpService", "json_object"]


class HttpService:
    """A service at ``base_url`` (``what`` names it in messages; ``reach_fix`` says what to do
    when it cannot be reached or does not answer in ``timeout_s`` seconds)."""

    def __init__(
        self,
        base_url: str,
        *,
        what: str,
        reach_fix: str,
        timeout_s: float,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.what = what
        self.reach_fix = reach_fix
        self.timeout_s = timeout_s
        self._client = httpx.Client(
            base_url=self.base_url, timeout=timeout_s, headers=headers, auth=auth
        )

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The answer to ``method path``; ``CheckFailed`` when there is none in time."""
        try:
            return self._client.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise CheckFailed(
                f"{self.what} at {self.base_url} did not answer {method} {path} within"
                f" {self.timeout_s:g} s",
                self.reach_fix,
            ) from exc
        except httpx.HTTPError as exc:
            raise CheckFailed(
                f"cannot reach {self.what} at {self.base_url}: {type(exc).__name__}: {exc}",
                self.reach_fix,
            ) from exc

    def close(self) -> None:
        """Close the connections."""
        self._client.close()


def json_object(response: httpx.Response, what: str, fix: str) -> dict[str, Any]:
    """The JSON object ``response`` holds; ``CheckFailed`` naming ``what`` otherwise."""
    try:
        body = response.json()
    except ValueError as exc:
        raise CheckFailed(
            f"{what}: HTTP {response.status_code}, not JSON: {response.text[:120]!r}", fix
        ) from exc
    if not isinstance(body, dict):
        raise CheckFailed(f"{what}: HTTP {response.status_code}, not a JSON object", fix)
    return body
