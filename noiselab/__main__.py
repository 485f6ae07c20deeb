"""``python -m noiselab`` is the ``noiselab`` command."""

from noiselab.cli import main

main()
