"""Alert rules, alerts and their history, in the metadata database."""

from __future__ import annotations
