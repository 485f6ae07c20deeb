"""The living noise map as a service: the modelled surface of :mod:`noiselab.noisemap` fitted
to the public sensors' measurements of a period, validated, rendered and kept up to date for
the API (see :mod:`.service`)."""
