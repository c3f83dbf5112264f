"""Pure image work on numpy arrays: detector runtime, tiling and merge, drawing.

Nothing here touches files, databases or geography; callers pass arrays in and get
``Detections`` back.
"""

from heyan.vision.classes import CLASSES, ClassInfo, class_index, class_names
from heyan.vision.detections import Detections

__all__ = ["CLASSES", "ClassInfo", "Detections", "class_index", "class_names"]
