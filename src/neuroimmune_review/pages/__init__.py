"""Page builders: the charts, tables, summaries, figures and about-page parts chapters call."""
