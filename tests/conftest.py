"""Test-wide settings: Keras 3 runs on the torch backend (no TensorFlow needed)."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("MPLBACKEND", "Agg")
