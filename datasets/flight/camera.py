"""The simulated drone camera and the errors of what the drone reports about its pose."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CameraSpec:
    """A real DJI survey camera. Calibration values are for the native resolution, as DJI
    writes them in XMP; photos written smaller are scaled by the long side (exactly what
    ``pipeline.metadata`` does when it reads them back)."""

    name: str
    model: str  # EXIF Model
    drone: str  # drone-dji:DroneModel
    sensor_mm: tuple[float, float]
    native: tuple[int, int]
    focal_mm: float
    focal_35mm: float
    calibrated_focal_px: float  # at native resolution
    optical_center: tuple[float, float]  # at native resolution
    make: str = "DJI"

    @property
    def aspect(self) -> float:
        return self.native[0] / self.native[1]

    def intrinsics(self, width: int, height: int) -> tuple[float, float, float]:
        """(focal_px, cx, cy) of a photo stored at width x height (georef pixel convention:
        the centre of the image is (w/2, h/2))."""
        ref_w, ref_h = 2 * self.optical_center[0], 2 * self.optical_center[1]
        scale = max(width, height) / max(ref_w, ref_h)
        return self.calibrated_focal_px * scale, width / 2.0, height / 2.0

    def check_size(self, width: int, height: int) -> None:
        if width < 64 or height < 48:
            raise ValueError(f"photo size {width}x{height} too small")
        if abs(width / height - self.aspect) > 0.01 * self.aspect:
            raise ValueError(f"photo size {width}x{height} does not have the {self.name}'s aspect "
                             f"{self.native[0]}:{self.native[1]} (e.g. {width}x{round(width / self.aspect)})")


# Mavic 3 Enterprise wide camera: 4/3" CMOS 17.3 x 13.0 mm, 5280 x 3956, 12.29 mm (24 mm eq.).
MAVIC_3E = CameraSpec("DJI Mavic 3E wide camera", "M3E", "M3E", (17.3, 13.0), (5280, 3956), 12.29, 24.0,
                      3713.29, (2640.0, 1978.0))
# Phantom 4 RTK: 1" CMOS 13.2 x 8.8 mm, 5472 x 3648, 8.8 mm (24 mm eq.).
PHANTOM_4_RTK = CameraSpec("DJI Phantom 4 RTK", "FC6310R", "P4RTK", (13.2, 8.8), (5472, 3648), 8.8, 24.0,
                           3648.0, (2736.0, 1824.0))


@dataclass(frozen=True)
class NoiseModel:
    """Difference between the true pose (which renders the photo) and the pose the drone
    writes into EXIF/XMP. 1-sigma values.

    GNSS error is a slowly wandering offset (first-order Gauss-Markov per axis with
    correlation time ``gnss_tau_s``) plus a little white noise: consecutive photos of a
    non-RTK flight are off by nearly the same few metres. The compass/yaw error is a bias
    per flight plus per-photo noise; gimbal pitch/roll errors are per photo. A DJI gimbal
    never reports a pitch below -90, so the reported pitch is clipped there.
    """

    gnss_sigma_m: float = 1.5  # per axis (east, north)
    gnss_tau_s: float = 60.0
    gnss_white_m: float = 0.3
    rel_alt_bias_m: float = 0.5  # barometric altitude above takeoff
    rel_alt_white_m: float = 0.1
    abs_alt_bias_m: float = 5.0  # absolute altitude (datum and GNSS vertical error)
    yaw_bias_deg: float = 1.0
    yaw_white_deg: float = 1.0
    pitch_deg: float = 0.7
    roll_deg: float = 0.7
    rtk_flag: int = 16  # drone-dji:RtkFlag: 16 single point, 50 fixed
    rtk_std_m: tuple[float, float, float] | None = None  # RtkStdLon/Lat/Hgt written when set

    @classmethod
    def none(cls) -> NoiseModel:
        return cls(0.0, 60.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)

    @classmethod
    def rtk_fixed(cls) -> NoiseModel:
        return cls(gnss_sigma_m=0.02, gnss_white_m=0.01, rel_alt_bias_m=0.05, rel_alt_white_m=0.02,
                   abs_alt_bias_m=0.05, rtk_flag=50, rtk_std_m=(0.02, 0.02, 0.04))

    @property
    def yaw_sigma_deg(self) -> float:
        return (self.yaw_bias_deg**2 + self.yaw_white_deg**2) ** 0.5

    @property
    def horizontal_sigma_m(self) -> float:
        """Per-axis 1-sigma of the reported camera position."""
        return (self.gnss_sigma_m**2 + self.gnss_white_m**2) ** 0.5
