"""The benchmark harness (``harness``) and its results; run it with ``make bench``."""
