"""The model zoo: ONNX detectors with model cards, the registry, training and export.

Training code imports Ultralytics/torch lazily; loading and running a model never does.
"""
