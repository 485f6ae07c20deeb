"""Pure acoustics: numpy in, numbers out. Imports nothing else of noiselab."""
