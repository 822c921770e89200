"""The version of openclubs."""

__version__ = "0.1.0"
