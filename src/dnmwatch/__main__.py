"""``python -m dnmwatch`` runs the command line."""

import sys

from dnmwatch.cli import main

sys.exit(main())
