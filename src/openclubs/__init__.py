"""openclubs: open data about sports and physical-activity clubs (OpenActive Club Spec 0.2)."""

from openclubs.validate import Issue, Report, validate
from openclubs.version import __version__

__all__ = ["Issue", "Report", "__version__", "validate"]
