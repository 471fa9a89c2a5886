"""Keyed pseudonyms for vendor handles: a thin re-export of :mod:`dnmwatch.privacy.keys`.

Why this module still exists: adapters (and outside adapter packages) import
``Pseudonymizer`` and ``PSEUDONYM`` from here. There is one implementation only, in
:mod:`dnmwatch.privacy.keys`; the key file is loaded through
:class:`~dnmwatch.privacy.keys.KeyStore` (permissions checked, outside the data dir, key use
audited) and created only by ``dnmwatch keys init``, never on first use.
"""

from __future__ import annotations

from dnmwatch.privacy.keys import ID_HEX_CHARS, KEY_BYTES, Pseudonymizer, normalise_handle
from dnmwatch.privacy.keys import VENDOR_PREFIX as ID_PREFIX
from dnmwatch.privacy.keys import VENDOR_PSEUDONYM as PSEUDONYM

__all__ = ["ID_HEX_CHARS", "ID_PREFIX", "KEY_BYTES", "PSEUDONYM", "Pseudonymizer",
           "normalise_handle"]
