"""pytest entry point (`pytest11`), reserved for the record/replay plugin.

Kept import-light: pytest loads it in every session of every project that has
pytest-batch installed, so nothing heavy may be imported at module level.
"""
