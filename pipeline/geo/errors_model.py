"""Default uncertainties of a drone pose, for first-order error propagation.

Every number is a 1-sigma standard deviation of an independent error source; see
docs/georef.md for where they come from and how they are combined. All are settings: an
office that checks its own flights against ground control should replace them.
"""

from __future__ import annotations

from dataclasses import dataclass

from heyan.pipeline.metadata.pose import CameraPose

# DJI ``drone-dji:RtkFlag``: 0 no positioning, 16 single point, 34 float, 50 fixed.
RTK_FIXED = 50
RTK_FLOAT = 34
RTK_SINGLE = 16


@dataclass(frozen=True)
class ErrorModel:
    # Horizontal GNSS position, per axis (east and north each), by RTK state. Used only when
    # the photo has no RtkStdLon/RtkStdLat (which are per-axis too and win when present).
    sigma_h_rtk_fixed_m: float = 0.05
    sigma_h_rtk_float_m: float = 0.5
    sigma_h_gnss_m: float = 3.0  # single point or no/unknown RTK flag: plain GNSS
    # Vertical GNSS (absolute altitude), used when RtkStdHgt is absent. Plain DJI GNSS
    # altitude is poor and its datum unclear (ellipsoid vs. geoid), hence 10 m.
    sigma_v_rtk_fixed_m: float = 0.1
    sigma_v_rtk_float_m: float = 1.0
    sigma_v_gnss_m: float = 10.0
    # Barometric altitude relative to takeoff: drift over one flight of ~20 min.
    sigma_rel_alt_m: float = 0.5
    # Height of the ground model: the water plane vs. takeoff level (guessed per flight),
    # or the vertical accuracy of a DEM/DSM.
    sigma_plane_m: float = 0.3
    sigma_dem_m: float = 1.0
    # Attitude: DJI gimbal pitch/roll are held by the gimbal IMU, the yaw comes from the
    # compass/fused heading and is the worst of the three.
    sigma_yaw_deg: float = 2.0
    sigma_pitch_deg: float = 1.0
    sigma_roll_deg: float = 1.0
    # Focal length: EXIF 35 mm-equivalent focal vs. a calibrated DewarpData focal.
    sigma_focal_rel: float = 0.01
    sigma_focal_rel_calibrated: float = 0.002
    # For a GNSS std reported by the receiver, never trust it below this.
    min_sigma_m: float = 0.01

    def horizontal_sigma(self, pose: CameraPose) -> tuple[float, float, str]:
        """(sigma_east, sigma_north, source) of the camera position in metres."""
        if pose.rtk_std_lon_m is not None and pose.rtk_std_lat_m is not None:
            return (max(float(pose.rtk_std_lon_m), self.min_sigma_m),
                    max(float(pose.rtk_std_lat_m), self.min_sigma_m), "RtkStdLon/Lat")
        flag = pose.rtk_flag
        if flag == RTK_FIXED:
            s = self.sigma_h_rtk_fixed_m
        elif flag == RTK_FLOAT:
            s = self.sigma_h_rtk_float_m
        else:
            s = self.sigma_h_gnss_m
        return s, s, f"RtkFlag={flag}"

    def absolute_vertical_sigma(self, pose: CameraPose) -> float:
        if pose.rtk_std_hgt_m is not None:
            return max(float(pose.rtk_std_hgt_m), self.min_sigma_m)
        if pose.rtk_flag == RTK_FIXED:
            return self.sigma_v_rtk_fixed_m
        if pose.rtk_flag == RTK_FLOAT:
            return self.sigma_v_rtk_float_m
        return self.sigma_v_gnss_m

    def relative_vertical_sigma(self, pose: CameraPose) -> float:
        # Relative altitude is barometric on most airframes but RTK-aided when RTK is fixed:
        # take whichever source is better.
        return min(self.sigma_rel_alt_m, self.absolute_vertical_sigma(pose))

    def focal_sigma_rel(self, pose: CameraPose) -> float:
        src = (pose.focal_source or "").lower()
        calibrated = "dewarp" in src or "calib" in src or (pose.distortion is not None and any(pose.distortion))
        return self.sigma_focal_rel_calibrated if calibrated else self.sigma_focal_rel
