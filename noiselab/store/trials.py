"""Vendor trials of noise-reduction products, in the metadata database."""

from __future__ import annotations
