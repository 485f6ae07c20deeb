"""The edge client: audio in, per-second A-weighted levels out over MQTT."""
