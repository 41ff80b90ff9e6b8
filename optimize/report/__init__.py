"""Plots and the HTML report: they read result tables only, never the model or the solver."""
