"""Test-wide settings.

* Keras 3 runs on the torch backend (no TensorFlow needed); matplotlib draws off-screen.
* Under CI (``CI`` set), hypothesis is derandomized: a CI run must not fail on
  an example nobody can reproduce.  Locally it keeps exploring new examples.
"""

import os

from hypothesis import settings

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("MPLBACKEND", "Agg")

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
