"""Publishing the store: the RPDE club feed, the dataset site and a page per club."""
