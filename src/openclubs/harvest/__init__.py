"""Harvesting other publishers' open data: RPDE feeds (see :mod:`.rpde_client`).

The RPDE client walks a feed page by page and hands each page to a callback; storing the
items and the checkpoint (the page's ``next`` URL) is the caller's job, in one transaction.
"""
