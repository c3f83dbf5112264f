"""A river network and a calibrated fixed camera that match the generated camera video, so
events of the edge runner land on a real segment: for tests, benchmarks and demos."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from heyan.datasets.synthetic.camera_video import SceneSpec


@dataclass
class DemoSite:
    """A river and a calibrated camera that agree with ``SceneSpec``'s picture: the camera
    stands on the south bank of a river flowing east and looks north across it, so the
    generated water is the river's water and the far bank is its north bank. For tests,
    benchmarks and demos that need events on a real river network (server side)."""

    lon0: float = 120.0
    lat0: float = 30.5
    width_m: float = 40.0  # water from n = -20 to +20 m
    outfall_id: str = "YS-001"  # a registered outfall (一口一档) on the far bank

    def ll(self, east: float, north: float) -> list[float]:
        """[lon, lat] of a point ``east``/``north`` metres from the site's origin."""
        from heyan.pipeline.geo.utm import LocalFrame

        lon, lat = LocalFrame(self.lon0, self.lat0).enu_to_lonlat(np.array(east, float), np.array(north, float))
        return [float(lon), float(lat)]

    def network(self) -> dict[str, Any]:
        """River network GeoJSON (docs/rivers.md): one segment with its chiefs, the outfall."""
        chiefs = {"county": {"name": "县长丙"}, "township": {"name": "镇长乙"}, "village": {"name": "村长甲"}}
        return {"type": "FeatureCollection", "name": "demo site", "features": [
            {"type": "Feature", "properties": {"kind": "segment", "id": "seg-1", "name": "双桥港示范段", "river": "双桥港",
                                               "chiefs": chiefs, "width_m": self.width_m, "buffer_m": 50},
             "geometry": {"type": "LineString", "coordinates": [self.ll(-1000, 0), self.ll(1000, 0)]}},
            {"type": "Feature", "properties": {"kind": "outfall", "id": self.outfall_id, "name": "示范雨水口",
                                               "outfall_type": "rain", "segment_id": "seg-1"},
             "geometry": {"type": "Point", "coordinates": self.ll(0, self.width_m / 2 + 1)}},
        ]}

    def calibration(self, spec: SceneSpec, path: str | Path, noise_m: float = 0.7) -> Path:
        """A homography calibration of ``spec``'s camera (``heyan calibrate``'s file): the
        bottom of the picture is the near edge of the water (24 m wide), the bank line at
        ``spec.bank_frac`` the far edge (80 m wide). ``noise_m`` perturbs the 9 control points
        as a survey would, which gives events a realistic error_m."""
        from heyan.pipeline.geo.calibration import ControlPoint, calibrate, save_calibration

        w, h = spec.width, spec.height
        top = spec.bank_frac * h
        edge = self.width_m / 2 - 1.0
        src = np.array([[0, h], [w, h], [w, top], [0, top]], np.float32)
        dst = np.array([[-12, -edge], [12, -edge], [40, edge], [-40, edge]], np.float32)
        hom = cv2.getPerspectiveTransform(src, dst)
        rng = np.random.default_rng(7)
        pts = []
        for fy in (0.0, 0.5, 1.0):
            for fx in (0.05, 0.5, 0.95):
                px = np.array([[[fx * w, top + fy * (h - top)]]], np.float32)
                e, n = cv2.perspectiveTransform(px, hom)[0, 0] + rng.normal(0, noise_m, 2)
                lon, lat = self.ll(float(e), float(n))
                pts.append(ControlPoint(pixel=(float(px[0, 0, 0]), float(px[0, 0, 1])), lat=lat, lon=lon))
        calib = calibrate(pts, image_size=(w, h), method="homography")
        save_calibration(calib, path)
        return Path(path)
