"""Safeguards for the people in the data and for the researcher.

* :mod:`~dnmwatch.privacy.keys` — the pseudonymisation key, per-export keys, rotation;
* :mod:`~dnmwatch.privacy.scrub` — contact details removed from free text before storage;
* :mod:`~dnmwatch.privacy.audit` — the hash-chained audit log;
* :mod:`~dnmwatch.privacy.disclosure` — cell suppression of published tables;
* :mod:`~dnmwatch.privacy.export` — disclosure-controlled exports with a data package;
* :mod:`~dnmwatch.privacy.retention` — expiry of raw pages and free text;
* :mod:`~dnmwatch.privacy.scan` — proof that given names (buyers) appear in no table or file.

See ``docs/data-protection.md`` for the rules and why each exists. Importing this package does
no I/O and imports no sub-module (so ``scrub`` can be used by extraction without pulling DuckDB).
"""
