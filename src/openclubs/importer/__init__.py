"""Importing club lists (spreadsheets, registers, CSV and JSON) as Club Spec 0.2 records."""

from openclubs.importer.build import Change
from openclubs.importer.run import ImportedClub, ImportResult, import_files

__all__ = ["Change", "ImportResult", "ImportedClub", "import_files"]
