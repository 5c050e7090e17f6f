"""Suite-wide settings: Hypothesis profiles.

Developer runs explore new random examples every time. CI (``CI`` set, as ``.ci/run`` is run)
uses a derandomised profile, so a landing is judged on reproducible examples; a counterexample
found while developing is pinned with ``@example`` in its test.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
