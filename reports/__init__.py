"""Turning results into things people read: `table` (terminal), `json_report` (versioned,
deterministic JSON; schema in docs/json-schema.md), `csv_report`, `html` + `figures` (one
self-contained offline plotly page) and `progress` (a progress bar on stderr). The only package that
imports plotly; it imports the archsim core and nothing else of the pipeline."""
