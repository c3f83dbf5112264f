"""The domain: ingest, metadata, georeferencing, river network, rules, de-duplication."""
