"""The analyst dashboard: a small, server-rendered web interface over the store.

* :mod:`.users` keeps local accounts (Argon2 hashes) in ``users.sqlite`` beside the store;
* :mod:`.roles` says which role may do what (deny by default);
* :mod:`.sessions` and :mod:`.throttle` hold server-side sessions and login throttling;
* :mod:`.security` sets the Content-Security-Policy and checks CSRF tokens;
* :mod:`.reader` opens the store read-only per request, with a query time limit;
* :mod:`.queries` and :mod:`.pages` compute what each page shows (disclosure-controlled);
* :mod:`.app` builds the Starlette application; :mod:`.cli` registers ``dnmwatch serve`` and
  ``dnmwatch users``.

Importing this package does no I/O and imports no sub-module.
"""
