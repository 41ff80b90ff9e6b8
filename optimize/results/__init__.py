"""Result tables extracted from a solved model, and the atomic run-folder writer."""
