"""The simulated world as files: the river network (``rivers.geojson``, the format of
``pipeline.geo.rivers``) and the ground truth (``truth.geojson``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from shapely.geometry import Polygon

from heyan.datasets.flight.world import COUNTY, World, compass_deg
from heyan.vision.classes import info as class_info


def rivers_geojson(world: World) -> dict[str, Any]:
    """River network in the format of pipeline.geo.rivers (docs/rivers.md): segments drawn
    downstream with chiefs and per-bank management-zone widths, the water surface of each
    segment, outfalls and the permitted sand-mining area."""
    r = world.river
    feats: list[dict[str, Any]] = []
    for seg in world.segments:
        i0, i1 = seg["i0"], seg["i1"]
        lon, lat = world.to_lonlat(r.xy[i0:i1 + 1, 0], r.xy[i0:i1 + 1, 1])
        feats.append({
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": _coords(lon, lat)},
            "properties": {
                "kind": "segment", "id": seg["id"], "name": seg["name"], "river": r.name,
                "chiefs": seg["chiefs"],
                "buffer_m": {"left": r.zone_m["left"], "right": r.zone_m["right"]},
                "width_m": round(float(np.mean((r.half_left + r.half_right)[i0:i1 + 1])), 1),
                "river_start_km": round(seg["s0"] / 1000.0, 3),
                "description": f"{seg['township']} {seg['village']}, 模拟数据 (simulated)",
            },
        })
    for seg in world.segments:
        ring = r.water(seg["i0"], seg["i1"])
        lon, lat = world.to_lonlat(ring[:, 0], ring[:, 1])
        feats.append({
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [_ring(lon, lat)]},
            "properties": {"kind": "zone", "id": f"water-{seg['id']}", "zone_type": "water",
                           "name": f"{seg['name']}水域", "segment_id": seg["id"]},
        })
    for m in world.mining_areas:
        lon, lat = world.to_lonlat(m["xy"][:, 0], m["xy"][:, 1])
        props = {k: v for k, v in m.items() if k != "xy"}
        feats.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [_ring(lon, lat)]},
                      "properties": {"kind": "mining_area", **props}})
    for o in world.outfalls:
        feats.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(o.lon, 8), round(o.lat, 8)]},
            "properties": {"kind": "outfall", "id": o.id, "outfall_type": o.outfall_type,
                           "name": f"{r.name}{'雨水' if o.outfall_type == 'rain' else '污水'}排口{o.id[-2:]}",
                           "segment_id": o.segment_id},
        })
    lon0, lat0 = world.origin_lonlat
    return {
        "type": "FeatureCollection",
        "network": {"name": f"{COUNTY}{r.name}（模拟, seed {world.seed}, origin {lon0:.5f} E {lat0:.5f} N）",
                    "default_buffer_m": 30.0},
        "features": feats,
    }

def truth_geojson(world: World, seen_in: dict[str, int] | None = None) -> dict[str, Any]:
    feats = []
    for o in world.objects:
        props: dict[str, Any] = {
            "id": o.id, "class": o.cls, "class_zh": class_info(o.cls).zh, "size_m": round(o.size_m, 2),
            "extent_m": [round(o.extent_m[0], 2), round(o.extent_m[1], 2)],
            "heading_deg": round(compass_deg(o.heading), 1), "role": o.role, "on_water": o.on_water,
            "bank": o.bank, "chainage_m": round(o.chainage_m, 1), "segment_id": o.segment_id,
            "in_zone": o.in_zone,
        }
        if seen_in is not None:
            props["seen_in"] = int(seen_in.get(o.id, 0))
        feats.append({"type": "Feature", "geometry": {"type": "Point",
                                                      "coordinates": [round(o.lon, 9), round(o.lat, 9)]},
                      "properties": props})
    lon0, lat0 = world.origin_lonlat
    return {"type": "FeatureCollection",
            "generator": {"name": "heyan simulate-flight", "seed": world.seed,
                          "origin": [round(lon0, 7), round(lat0, 7)], "river": world.river.name,
                          "river_width_m": round(world.river.width_m, 1)},
            "features": feats}


def _coords(lon: np.ndarray, lat: np.ndarray) -> list[list[float]]:
    return [[round(float(a), 8), round(float(b), 8)] for a, b in zip(lon, lat)]


def _ring(lon: np.ndarray, lat: np.ndarray) -> list[list[float]]:
    ring = _coords(lon, lat)
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    poly = Polygon(ring)
    if not poly.exterior.is_ccw:  # RFC 7946: exterior rings counter-clockwise
        ring = ring[::-1]
    return ring
