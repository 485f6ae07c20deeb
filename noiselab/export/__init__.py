"""Publishing what noiselab measured to other systems."""
