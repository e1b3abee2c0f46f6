"""The build: the Sphinx extension Jupyter Book loads, its shared-kernel executor, static files and templates."""
