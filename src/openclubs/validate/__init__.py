"""The Club Specification 0.2 validator."""

from openclubs.validate.engine import check_record, validate, validate_sources
from openclubs.validate.report import Issue, Report

__all__ = ["Issue", "Report", "check_record", "validate", "validate_sources"]
