"""Input tables: the column registry, reading, validation and the frozen ModelData."""
