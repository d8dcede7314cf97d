"""The records' API by feature: imports, reports and summaries (URLs in oversight.urls)."""
