"""The model zoo: ONNX detectors with model cards, the registry, training and export.

Training code imports Ultralytics/torch lazily; loading and running a model never does.
"""

# The model every command, the server and the edge runner use unless told otherwise: the
# one place this is decided (its card says why it is the default).
DEFAULT_MODEL = "heyan-det-v2"
