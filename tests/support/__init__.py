"""Code shared by the test modules: harnesses, fixture data and fakes (no tests in here).

Test modules import from ``support`` and never from one another; ``tests/test_test_layout.py``
keeps it that way.
"""
