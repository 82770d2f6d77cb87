"""Advertisers, creatives, fetch runs and watches; the SerpApi client and ingestion."""
