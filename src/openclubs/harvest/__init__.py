"""Harvesting other publishers' open data into the store.

- :mod:`.rpde_client` walks an RPDE feed page by page (``next`` verbatim, the real last page,
  polite HTTP, Retry-After, back-off) and hands each page to a callback;
- :mod:`.apply` writes a page (clubs, per-item ``modified`` and tombstones, organisers, and the
  feed's checkpoint) in one store transaction;
- :mod:`.records` says what an item gives: a club record, or its organiser's activities and
  places;
- :mod:`.runner` runs feeds side by side, resuming, following, recording errors;
- :mod:`.discovery` finds the feeds behind data catalogs and dataset sites;
- :mod:`.site` reads club web pages (robots.txt, sitemaps, conditional requests);
- :mod:`.schema` holds the harvester's tables for both store backends.
"""
