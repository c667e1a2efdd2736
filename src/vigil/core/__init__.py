"""The bottom layer: what every other package may use and which imports nothing of vigil itself —
errors, the category vocabulary, the records passed between stages, file I/O helpers and the clock."""
