"""Shared by the source frontends: the parsed file, import names, positions and libcst readers."""
