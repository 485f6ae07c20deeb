"""Property-based run of schemathesis over the whole OpenAPI document of the app, as every role.

For every operation schemathesis generates requests from the document (valid and invalid
values) and sends them to the app in process (ASGI, lifespan included) as each caller the app
knows: no key (``public``), an unknown or revoked key (``bad_key``), an ``Authorization`` header
that is no bearer key at all (``malformed``), keys of the roles ``vendor``, ``staff``, ``admin``
and ``sensor`` (sent as a bearer token or, for pushes, as HTTP Basic), and the public from an
address whose rate limit is spent (``throttled``). Each answer is checked: no 5xx; a status
code, content type and body the operation declares; a role that the role table
(:mod:`support.role_table`) refuses the operation gets the table's 401 or 403 (the throttled
public 429), never a 2xx; and no 2xx answer names a sensor or trial the role may not see.

Path parameters are steered part of the time to ids that exist (a public sensor, the vendor's
own trial and its private sensor, another vendor's trial and sensor, the pushing device, the
first rows of the alert tables), so the checks see real answers and not only 404s; the vendor
key lists no sensor of its own and sees its private sensor through its trial. Pushes are
sometimes sent as the device with a message it stores.

Bounded so the run stays within about two minutes on two shared cores: a few examples per
operation and role (``EXAMPLES``; fewer for callers refused almost everywhere, whose unknown
keys also cost a scrypt hash each), schemathesis' coverage phase only for the callers with
access (``BOUNDARIES``), no deadline. Except for ``throttled``, the public rate limit is raised
so that 429 does not stand in for the answers being checked. Staff and admin write (trials,
rules, keys), so each has an app and database of its own, and so has the throttled public; the
other callers only read (and the device pushes) and share one.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks
from support.lab import ApiLab
from support.outbox import dead_delivery
from support.readings import sensor, steady
from support.role_table import (
    BAD_KEY,
    PRIVATE_SENSOR,
    PUBLIC_SENSOR,
    PUSHING_SENSOR,
    UNKNOWN_SENSOR,
    admitted,
    refusals,
)

from noiselab.api.app import create_app
from noiselab.api.settings import ApiSettings
from noiselab.store.metadata import Trial

NOW = datetime(2026, 3, 3, 12, tzinfo=UTC)
OTHER_SENSOR = "vb-rival-1"  # private, in the other vendor's trial
OWN_TRIAL = "tr-acme00000001"  # the vendor key's ("acme")
OTHER_TRIAL = "tr-rival0000001"  # another vendor's ("rival")
OTHER_TRIAL_NAME = "Rival absorber wall"
UNKNOWN_TRIAL = "tr-000000000000"
ASGI_CLIENT = "testclient"  # the client address schemathesis' ASGI transport sends from
CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]
EXAMPLES = {
    "public": 12,
    "bad_key": 3,
    "malformed": 5,
    "vendor": 12,
    "staff": 10,
    "admin": 6,
    "sensor": 5,
    "throttled": 2,
}
"""Examples per operation that hypothesis generates for each caller (its fuzzing phase)."""
BOUNDARIES = frozenset({"public", "vendor", "staff", "admin", "sensor"})
"""The callers that also get schemathesis' coverage phase: about 1400 requests of boundary and
invalid values over the whole document, the same for each caller. Not for an unknown key or a
malformed header, refused everywhere but on the probes (an unknown key costs a scrypt hash per
request, too)."""
FORM_REFUSALS = frozenset({400, 422})
"""Statuses of a request refused for its form, whoever sends it."""
AS_IN_TABLE = {"malformed": "bad_key", "throttled": "public"}
"""The role table's name of a caller, where it differs: a malformed header is refused like an
unknown key; ``throttled`` is the public after its address spent its rate limit."""
REFUSED_WITH = {"throttled": frozenset({429})}
"""A caller's answer to operations the table refuses its role, where it is not the table's:
checking the missing key takes a token the throttled address does not have."""
NO_KEY = frozenset({"public", "throttled"})
"""The callers that send no ``Authorization`` header."""
HIDDEN = {
    "public": {PRIVATE_SENSOR, OWN_TRIAL, OTHER_SENSOR, OTHER_TRIAL, OTHER_TRIAL_NAME},
    "vendor": {OTHER_SENSOR, OTHER_TRIAL, OTHER_TRIAL_NAME, PUSHING_SENSOR},
    "sensor": {PRIVATE_SENSOR, OWN_TRIAL, OTHER_SENSOR, OTHER_TRIAL, OTHER_TRIAL_NAME},
}
"""What no 2xx answer to a caller may contain (callers refused with any key see no 2xx
answer but from the probes)."""
HIDDEN["bad_key"] = HIDDEN["malformed"] = HIDDEN["throttled"] = HIDDEN["public"]
STEERED = {
    "sensor_id": [PUBLIC_SENSOR, PRIVATE_SENSOR, OTHER_SENSOR, PUSHING_SENSOR, UNKNOWN_SENSOR],
    "trial_id": [OWN_TRIAL, OTHER_TRIAL, UNKNOWN_TRIAL],
    **{name: ["1", "2"] for name in ("rule_id", "alert_id", "delivery_id", "entry_id")},
}
"""Values that path parameters of these names take part of the time."""
MALFORMED = st.one_of(
    st.sampled_from(
        [
            "",
            "Bearer",
            "Bearer ",
            "bearer",
            "Basic",
            "Basic !!not base64!!",
            "Basic " + base64.b64encode(f"device:{BAD_KEY}".encode()).decode(),
            f"Token {BAD_KEY}",
            BAD_KEY,
            "Bearer nl_0123456789abcdef_short",
            "Bearer nl_XYZ_" + "x" * 43,
            f"Bearer {BAD_KEY} {BAD_KEY}",
        ]
    ),
    st.from_regex(r"[!-~][ -~]{0,80}", fullmatch=True),
)
"""``Authorization`` values that are no valid key of any scheme the app reads."""
CREDENTIALS = {
    "bad_key": [f"Bearer {BAD_KEY}", "Bearer <revoked>"],
    "vendor": ["Bearer <vendor>"],
    "staff": ["Bearer <staff>"],
    "admin": ["Bearer <admin>"],
    "sensor": ["Bearer <sensor>", "Basic <sensor>"],  # a device may use HTTP Basic
}
"""The ``Authorization`` values of each role with keys: ``<name>`` stands for the site's key of
that name (:meth:`Site.authorization`)."""


DEVICE_MESSAGE = st.builds(
    lambda laeq, below, above: {
        "software_version": "NRZ-2020-133",
        "sensordatavalues": [
            {"value_type": "noise_LAeq", "value": f"{laeq:.2f}"},
            {"value_type": "noise_LA_min", "value": f"{laeq - below:.2f}"},
            {"value_type": "noise_LA_max", "value": f"{laeq + above:.2f}"},
        ],
    },
    st.floats(30, 100),
    st.floats(0, 20),
    st.floats(0, 30),
)
"""A Sensor.Community message the push route stores (levels in dB)."""


def _openapi() -> dict[str, Any]:
    """The app's OpenAPI document (the same for every settings the tests use)."""
    app = create_app(ApiSettings(store_url="sqlite:///unused.db", meta_url="sqlite://"))
    return app.openapi()


def homogeneous_tuples_as_arrays(node: Any) -> Any:
    """A copy of an OpenAPI document with each ``prefixItems`` whose items are all the same
    schema (what pydantic makes of ``tuple[int, int]``) written as ``items`` with
    ``minItems``/``maxItems``, which means the same. Schemathesis 4 mishandles ``prefixItems``
    in response schemas (it reports them as invalid; upstream issues #3842 and #4099 of
    schemathesis/schemathesis), so the document it checks against is rewritten this way."""
    if isinstance(node, list):
        return [homogeneous_tuples_as_arrays(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: homogeneous_tuples_as_arrays(value) for key, value in node.items()}
    tuple_items = out.get("prefixItems")
    homogeneous = (
        isinstance(tuple_items, list)
        and tuple_items
        and "items" not in out
        and all(item == tuple_items[0] for item in tuple_items)
    )
    if homogeneous:
        del out["prefixItems"]
        out["items"] = tuple_items[0]
        out.setdefault("minItems", len(tuple_items))
        out.setdefault("maxItems", len(tuple_items))
    return out


# Built when the module is collected: schemathesis needs the schema to parametrize the tests,
# and its fixture-based (lazy) loader does not work with pytest 9. The apps come from fixtures.
OPENAPI = _openapi()
DOCUMENT = homogeneous_tuples_as_arrays(OPENAPI)


@dataclass(frozen=True)
class Site:
    """An app over its own files and the texts of its keys: role -> key, and ``"revoked"``."""

    app: Any
    keys: dict[str, str]

    def authorization(self, template: str) -> str:
        """``template`` with ``<role>`` replaced by that key (``Basic <role>``: the key as the
        password of HTTP Basic, the device as the user)."""
        for name, key in self.keys.items():
            if template == f"Basic <{name}>":
                return "Basic " + base64.b64encode(f"{PUSHING_SENSOR}:{key}".encode()).decode()
            template = template.replace(f"<{name}>", key)
        return template


def _trial(trial_id: str, name: str, vendor: str, treated: str) -> Trial:
    """A trial of ``vendor``: ``treated`` against the public sensor, a week before and a week
    after a change three days ago."""
    change = NOW - timedelta(days=3)
    week = timedelta(days=7)
    return Trial(
        id=trial_id,
        name=name,
        vendor=vendor,
        treated=(treated,),
        control=(PUBLIC_SENSOR,),
        before_start=change - week,
        before_end=change,
        after_start=change,
        after_end=change + week,
    )


def build_site(root: Path, *, throttled: bool = False) -> Site:
    """An app over real SQLite files in ``root``: a public sensor, the vendor's private one, the
    other vendor's, the pushing device; an hour of data on the first three; one trial of each
    vendor; an alert with a dead webhook delivery; a key of each role and a revoked one. Public
    rate limit effectively off, or (``throttled``) spent for the address requests come from."""
    rate, burst = (1e-6, 1) if throttled else (1e6, 1_000_000)
    lab = ApiLab(root, now=NOW.timestamp(), public_rate_per_s=rate, public_burst=burst)
    hour = NOW.timestamp() - 3600
    with lab.meta() as meta:
        lab.sensors(
            sensor(PUBLIC_SENSOR),
            sensor(PRIVATE_SENSOR, public=False),
            sensor(OTHER_SENSOR, public=False),
            sensor(PUSHING_SENSOR, public=False),
        )
        meta.trials.create(_trial(OWN_TRIAL, "Acme blade barrier", "acme", PRIVATE_SENSOR))
        meta.trials.create(_trial(OTHER_TRIAL, OTHER_TRIAL_NAME, "rival", OTHER_SENSOR))
        dead_delivery(meta, PUBLIC_SENSOR)
        keys = {
            "vendor": lab.key("vendor", "acme").text,
            "staff": lab.key("staff", "kommune").text,
            "admin": lab.key("admin", "ops").text,
            "sensor": lab.key("sensor", "diy", sensors=(PUSHING_SENSOR,)).text,
        }
        revoked = lab.key("staff", "former")
        meta.keys.revoke(revoked.id)
    for sensor_id in (PUBLIC_SENSOR, PRIVATE_SENSOR, OTHER_SENSOR):
        lab.write(steady(sensor_id, hour, 3600, 62.0, lafmax=70.0), received_at=hour + 3600)
    app = create_app(lab.settings)
    assert app.openapi() == OPENAPI, "the document checked is not the one the app serves"
    if throttled:  # whichever operation comes first: the clock stands still, nothing refills
        assert app.state.limiter.take(ASGI_CLIENT) is None
    return Site(app, keys | {"revoked": revoked.text})


class Sites:
    """One site for the read-only callers, one each for staff, admin and the throttled public,
    built when first asked for."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self._factory = factory
        self._built: dict[str, Site] = {}

    def of(self, role: str) -> Site:
        group = role if role in ("staff", "admin", "throttled") else "readers"
        if group not in self._built:
            root = self._factory.mktemp(f"schemathesis-{group}")
            self._built[group] = build_site(root, throttled=group == "throttled")
        return self._built[group]


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Sites:
    return Sites(tmp_path_factory)


def credential(role: str, operation: Any) -> st.SearchStrategy[str | None]:
    """What ``role`` sends as ``Authorization`` to ``operation``: nothing (:data:`NO_KEY`), a
    malformed value, or one of its :data:`CREDENTIALS` (HTTP Basic only where the operation
    declares it)."""
    if role in NO_KEY:
        return st.none()
    if role == "malformed":
        return MALFORMED
    schemes = {name for need in operation.definition.raw.get("security", []) for name in need}
    usable = [c for c in CREDENTIALS[role] if not c.startswith("Basic") or "HTTPBasic" in schemes]
    return st.sampled_from(usable)


def sent_as(role: str, drawn: str | None) -> str | None:
    """The ``Authorization`` a case of ``role`` sends, given the one the case carries: the drawn
    credential, or, for cases that did not draw one (schemathesis' coverage phase brings its own
    header or none), the role's first; ``None``: no header."""
    if role in NO_KEY:
        return None
    if role == "malformed":
        return "Bearer" if drawn is None else drawn
    return drawn if drawn in CREDENTIALS[role] else CREDENTIALS[role][0]


def steered(case: Any) -> st.SearchStrategy[dict[str, str]]:
    """New values for some of ``case``'s path parameters: ids of the fixture data."""
    names = [name for name in case.path_parameters or {} if name in STEERED]
    return st.fixed_dictionaries(
        {name: st.one_of(st.none(), st.sampled_from(STEERED[name])) for name in names}
    ).map(lambda drawn: {name: value for name, value in drawn.items() if value is not None})


def pushes(operation: Any) -> bool:
    """Whether ``operation`` takes a device's readings (it names the device in ``X-Sensor``)."""
    parameters = operation.definition.raw.get("parameters", [])
    return any(p.get("in") == "header" and p["name"].lower() == "x-sensor" for p in parameters)


def role_schema(role: str) -> Any:
    """The document as a schemathesis schema whose generated cases present ``role``'s
    credentials, have some path parameters steered to fixture ids, and some pushes sent as the
    device with a message it stores."""
    role_schema = schemathesis.openapi.from_dict(DOCUMENT)
    role_schema.config.phases.coverage.enabled = role in BOUNDARIES

    @role_schema.hook
    def flatmap_case(context: Any, case: Any) -> st.SearchStrategy[Any]:
        def applied(drawn: tuple[dict[str, str], str | None, dict[str, Any] | None]) -> Any:
            params, authorization, message = drawn
            case.path_parameters = {**(case.path_parameters or {}), **params}
            headers = dict(case.headers or {})
            if authorization is not None:
                headers["Authorization"] = authorization
            if message is not None:
                headers = {k: v for k, v in headers.items() if k.lower() != "x-sensor"}
                headers["X-Sensor"] = PUSHING_SENSOR
                case.body = message
            case.headers = headers
            return case

        device = DEVICE_MESSAGE if pushes(case.operation) else st.none()
        drawn = st.tuples(
            steered(case), credential(role, case.operation), st.one_of(st.none(), device)
        )
        return drawn.map(applied)

    return role_schema


def refused_role_is_refused(role: str, site: Site) -> Callable[[Any, Any, Any], None]:
    """A check: when the role table refuses ``role`` the operation, the answer is the table's
    401 or 403 for it (:data:`REFUSED_WITH` where it differs), never a 2xx.

    One exception, checked rather than assumed: a request refused for its form (400, 422)
    before any key is looked at (a body that is no JSON: FastAPI parses it before it solves
    the route's dependencies; a bad query on the map's routes, which check the key inside), so
    the same request sent by a role the operation admits gets the same answer."""
    table_role = AS_IN_TABLE.get(role, role)

    def refused_role_is_refused(ctx: Any, response: Any, case: Any) -> None:
        if case.method.upper() != case.operation.method.upper():
            return  # schemathesis tries other methods: 405 before any key check
        method, path = case.operation.method, case.operation.path
        refused = refusals(method, path).get(table_role)
        refused = REFUSED_WITH.get(role, refused) if refused is not None else None
        status = response.status_code
        if refused is None or status in refused:
            return
        if status in FORM_REFUSALS:
            allowed = [r for r in admitted(method, path) if r in CREDENTIALS]
            if allowed:
                headers = {"Authorization": site.authorization(CREDENTIALS[allowed[0]][0])}
                again = case.call(app=site.app, headers=headers).status_code
                if again == status:
                    return
                status = f"{status} (a {allowed[0]} key got {again})"
        raise AssertionError(
            f"{role} got {status} from {case.operation.label}; the role table refuses it "
            f"with {sorted(refused)}"
        )

    return refused_role_is_refused


def nothing_hidden(role: str) -> Callable[[Any, Any, Any], None]:
    """A check: no 2xx answer to ``role`` names a sensor or trial it may not see."""
    hidden = HIDDEN.get(role, set())

    def nothing_hidden(ctx: Any, response: Any, case: Any) -> None:
        if not 200 <= response.status_code < 300:
            return
        shown = sorted(name for name in hidden if name.encode() in response.content)
        if shown:
            raise AssertionError(f"{role} was shown {shown} by {case.operation.label}")

    return nothing_hidden


def run_as(role: str) -> Callable[..., None]:
    """The test of every operation as ``role``: ``EXAMPLES[role]`` examples each."""

    @role_schema(role).parametrize()
    @settings(
        max_examples=EXAMPLES[role],
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    def test(case: Any, sites: Sites) -> None:
        site = sites.of(role)
        headers = dict(case.headers or {})
        carried = [headers.pop(k) for k in list(headers) if k.lower() == "authorization"]
        sent = sent_as(role, carried[0] if carried else None)
        if sent is not None:
            headers["Authorization"] = site.authorization(sent)
        case.headers = headers
        case.call_and_validate(
            app=site.app,
            checks=[*CHECKS, refused_role_is_refused(role, site), nothing_hidden(role)],
        )

    test.__name__ = f"test_as_{role}"
    return test


test_as_public = run_as("public")
test_as_bad_key = run_as("bad_key")
test_as_malformed = run_as("malformed")
test_as_vendor = run_as("vendor")
test_as_sensor = run_as("sensor")
test_as_staff = run_as("staff")
test_as_admin = run_as("admin")
test_as_throttled = run_as("throttled")
