"""Web tools for clubs: check data or a web page (/validate), build a JSON-LD snippet (/build)."""
