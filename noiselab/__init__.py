"""noiselab: the data platform of the Vallensbæk noise Living Lab."""

__all__ = ["__version__"]

__version__ = "0.1.0"
