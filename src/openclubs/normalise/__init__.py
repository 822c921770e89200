"""Normalising imported club data: geocoding postcodes and similar clean-ups."""
