"""Readers that turn inputs into pages or rows, and the ``extract`` stage that loads them.

* :mod:`.warc`: WARC files, streamed with constant memory, damage counted not fatal;
* :mod:`.mirror`: folders of saved pages (archived market dumps), capture time from the path;
* :mod:`.csvdata`: CSV datasets of listings, decoded and repaired;
* :mod:`.worker` / :mod:`.extract`: parallel extraction into the store with provenance.
"""

from __future__ import annotations

from dnmwatch.sources.csvdata import CsvSource, repair_text
from dnmwatch.sources.mirror import MirrorSource, date_from_path
from dnmwatch.sources.warc import WarcSource

__all__ = ["CsvSource", "MirrorSource", "WarcSource", "date_from_path", "repair_text"]
