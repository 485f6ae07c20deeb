"""Citizens' noise reports: "it is loud here now" from the public map, reviewed by staff beside
the levels measured at the nearest sensors.

- :mod:`noiselab.citizens.intake`: what a report must be to be accepted (time window, area,
  category, cleaned text), turning a request's fields into a
  :class:`~noiselab.store.metadata.CitizenReport`;
- :mod:`noiselab.citizens.nearby`: the nearest public sensors of a report and the LAeq they
  measured over the 15 minutes around its time;
- :mod:`noiselab.citizens.review`: the reports of a period and their counts, for the monthly
  report.

The reports themselves live in the metadata database (``meta.citizen_reports``).
"""
