"""Rendering for people: a run's lines and lanes, comparison tables, the HTML report."""
