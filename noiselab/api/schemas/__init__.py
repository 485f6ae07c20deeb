"""Request and response models of the HTTP API, one module per resource.

- ``base``: :class:`~noiselab.api.schemas.base.Out`, the base of every response model, and
  the shared ``UtcTime``; the conventions of every answer (units, rounding, times)
- ``errors``: ``ErrorOut``, the body of every error answer
- ``sensors``: the sensor list, one sensor, its levels
- ``indicators``, ``events``: a sensor's daily indicators and pass-by events
- ``trials``: vendor trials and their evaluation
- ``alerts``: the staff endpoints (alert rules, alerts, the quarantine, sensor health)
- ``map``: the public map
- ``citizen_reports``: citizens' noise reports (filed by anyone, reviewed by staff)
- ``keys``, ``push``, ``health``: API keys, readings pushed over HTTP, ``/healthz``

The models appear in OpenAPI under their class names, so each name is used once.
"""
