"""De-duplication: synthetic survey flights with known objects and seeded Gaussian georef noise.

The survey simulator below is independent of the code under test: it converts metres to
degrees with its own equirectangular formulas (not pipeline.geo.utm), cuts boxes at the photo
edge (so partial views move the box centre, as in real photos) and shares part of the
position error between the finds of one photo (a camera pose error moves them together).
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, replace

import numpy as np
import pytest
from shapely.geometry import Polygon

from heyan.pipeline.tickets.dedup import DedupParams, OpenTicket, TicketDraft, dedup_flight, view_quality
from heyan.pipeline.tickets.finds import Find

LAT0, LON0 = 30.28, 120.15  # Hangzhou
_PHI = math.radians(LAT0)
M_PER_DEG_LAT = 111132.954 - 559.822 * math.cos(2 * _PHI) + 1.175 * math.cos(4 * _PHI)
M_PER_DEG_LON = 111412.84 * math.cos(_PHI) - 93.5 * math.cos(3 * _PHI) + 0.118 * math.cos(5 * _PHI)


def to_lonlat(x: float, y: float) -> tuple[float, float]:
    return LON0 + x / M_PER_DEG_LON, LAT0 + y / M_PER_DEG_LAT


def to_xy(lon: float, lat: float) -> tuple[float, float]:
    return (lon - LON0) * M_PER_DEG_LON, (lat - LAT0) * M_PER_DEG_LAT


@dataclass
class Obj:
    cls: str
    x: float
    y: float
    size: float


@dataclass
class Photo:
    name: str
    cx: float
    cy: float


W_M, H_M, W_PX, H_PX, ALT = 80.0, 60.0, 4000, 3000, 100.0
GSD = W_M / W_PX


def footprint(ph: Photo) -> Polygon:
    corners = [(ph.cx - W_M / 2, ph.cy - H_M / 2), (ph.cx + W_M / 2, ph.cy - H_M / 2),
               (ph.cx + W_M / 2, ph.cy + H_M / 2), (ph.cx - W_M / 2, ph.cy + H_M / 2)]
    return Polygon([to_lonlat(x, y) for x, y in corners])


def lawnmower(x0: float, x1: float, y0: float, y1: float, prefix: str = "DJI_") -> list[Photo]:
    """Strips along x, 75 % forward overlap, 70 % side overlap."""
    photos, k = [], 0
    ys = np.arange(y0, y1 + 1e-9, 0.3 * H_M) if y1 > y0 else np.array([y0])
    for si, y in enumerate(ys):
        xs = np.arange(x0 - W_M / 2, x1 + W_M / 2 + 1e-9, 0.25 * W_M)
        for x in (xs if si % 2 == 0 else xs[::-1]):
            photos.append(Photo(f"{prefix}{k:04d}.JPG", float(x), float(y)))
            k += 1
    return photos


def survey(objects: list[Obj], photos: list[Photo], seed: int, err_range=(0.5, 3.0),
           known_size: bool = True, shared_frac: float = 0.7) -> tuple[list[Find], dict[str, int]]:
    """Each object inside a photo's footprint becomes one find of that photo.

    Error model: the stated error_m is the 1-sigma radial error; per-axis sigma = error/sqrt(2),
    of which ``shared_frac`` of the variance is common to the whole photo.
    """
    rng = np.random.default_rng(seed)
    finds, truth = [], {}
    for ph in photos:
        e = float(rng.uniform(*err_range))
        s_axis = e / math.sqrt(2)
        shared = rng.normal(0, s_axis * math.sqrt(shared_frac), 2)
        idx = 0
        for oi, ob in enumerate(objects):
            # box of the object in pixels, cut at the photo edge
            u0 = (ob.x - ob.size / 2 - ph.cx) / GSD + W_PX / 2
            u1 = (ob.x + ob.size / 2 - ph.cx) / GSD + W_PX / 2
            v0 = (ph.cy - ob.y - ob.size / 4) / GSD + H_PX / 2
            v1 = (ph.cy - ob.y + ob.size / 4) / GSD + H_PX / 2
            cu, cv = (u0 + u1) / 2, (v0 + v1) / 2
            if not (0 <= cu < W_PX and 0 <= cv < H_PX):
                continue  # centre outside the photo: not detected
            u0, u1, v0, v1 = max(u0, 0), min(u1, W_PX), max(v0, 0), min(v1, H_PX)
            gx = ph.cx + ((u0 + u1) / 2 - W_PX / 2) * GSD  # ground point of the box centre
            gy = ph.cy - ((v0 + v1) / 2 - H_PX / 2) * GSD
            noise = shared + rng.normal(0, s_axis * math.sqrt(1 - shared_frac), 2)
            lon, lat = to_lonlat(gx + noise[0], gy + noise[1])
            fid = f"{ph.name[:-4]}#{idx}"
            idx += 1
            finds.append(Find(
                id=fid, image=ph.name, class_name=ob.cls, score=float(rng.uniform(0.3, 0.95)),
                box=(u0, v0, u1, v1), lat=lat, lon=lon, error_m=e,
                size_m=max(u1 - u0, v1 - v0) * GSD if known_size else None,
                off_nadir_deg=math.degrees(math.atan(math.hypot(gx - ph.cx, gy - ph.cy) / ALT)),
            ))
            truth[fid] = oi
    return finds, truth


def solo_views(objects: list[Obj], views: int, err: float, seed: int) -> tuple[list[Find], dict[str, int]]:
    """Worst case for chaining: every find in its own photo (no same-photo constraint helps)."""
    rng = np.random.default_rng(seed)
    finds, truth = [], {}
    for oi, ob in enumerate(objects):
        for v in range(views):
            dx, dy = rng.normal(0, err / math.sqrt(2), 2)
            lon, lat = to_lonlat(ob.x + dx, ob.y + dy)
            fid = f"o{oi}v{v}"
            finds.append(Find(id=fid, image=f"{fid}.JPG", class_name=ob.cls, score=float(rng.uniform(0.3, 0.95)),
                              box=(100, 100, 200, 200), lat=lat, lon=lon, error_m=err, off_nadir_deg=10.0))
            truth[fid] = oi
    return finds, truth


def river_objects(n: int, seed: int, spacing: float = 35.0) -> list[Obj]:
    pattern = ["floating_debris", "boat", "floating_debris", "waste_pile", "structure",
               "floating_debris", "sand_dredger", "boat"]
    size = {"floating_debris": (0.3, 3.0), "boat": (5.0, 12.0), "waste_pile": (3.0, 12.0),
            "structure": (8.0, 20.0), "sand_dredger": (20.0, 40.0)}
    rng = random.Random(seed)
    out = []
    for i in range(n):
        cls = pattern[i % len(pattern)]
        out.append(Obj(cls, i * spacing + rng.uniform(-4, 4), rng.uniform(-15, 15), rng.uniform(*size[cls])))
    return out


def objects_per_ticket(tickets: list[TicketDraft], truth: dict[str, int]) -> list[set[int]]:
    return [{truth[f.id] for f in t.evidence} for t in tickets]


def check_one_ticket_per_object(tickets: list[TicketDraft], truth: dict[str, int], n_objects: int) -> None:
    per = objects_per_ticket(tickets, truth)
    impure = [s for s in per if len(s) != 1]
    assert not impure, f"tickets mixing objects: {impure}"
    seen = sorted(next(iter(s)) for s in per)
    dup = len(seen) / len(set(seen))
    assert dup == 1.0, f"duplicate rate {dup:.3f}: objects split over tickets {[o for o in set(seen) if seen.count(o) > 1]}"
    assert len(set(seen)) == n_objects
    assert sum(len(t.evidence) for t in tickets) == len(truth)


# --------------------------------------------------------------------------- one flight


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_ticket_per_object(seed):
    objects = river_objects(40, seed)
    photos = lawnmower(0, 40 * 35, -10, 10)
    finds, truth = survey(objects, photos, seed)
    res = dedup_flight(finds, "F1")
    print(f"seed {seed}: {len(finds)} finds of {len(objects)} objects -> {len(res.new_tickets)} tickets")
    check_one_ticket_per_object(res.new_tickets, truth, len(objects))
    assert not res.seen_again and not res.not_seen and not res.skipped


def test_one_ticket_per_object_unknown_sizes():
    objects = river_objects(40, 7)
    finds, truth = survey(objects, lawnmower(0, 40 * 35, -10, 10), 7, known_size=False)
    res = dedup_flight(finds, "F1")
    check_one_ticket_per_object(res.new_tickets, truth, len(objects))


@pytest.mark.parametrize("shared_photos", [True, False])
def test_two_objects_3m_apart_with_small_errors_stay_separate(shared_photos):
    objects = [Obj("floating_debris", 0.0, 0.0, 1.0), Obj("floating_debris", 3.0, 0.0, 1.0)]
    for seed in range(5):
        if shared_photos:
            finds, truth = survey(objects, lawnmower(0, 3, 0, 0), seed, err_range=(0.3, 0.3), known_size=False)
        else:
            finds, truth = solo_views(objects, 6, 0.3, seed)
        res = dedup_flight(finds, "F1")
        check_one_ticket_per_object(res.new_tickets, truth, 2)


def single_linkage_components(finds: list[Find], k: float, allowance: float) -> int:
    xy = np.array([to_xy(f.lon, f.lat) for f in finds])
    e = np.array([max(f.error_m, 0.5) for f in finds])
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    adj = d <= k * np.sqrt(e[:, None] ** 2 + e[None, :] ** 2) + allowance
    parent = list(range(len(finds)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(adj)):
        parent[root(i)] = root(j)
    return len({root(i) for i in range(len(finds))})


def test_debris_chain_does_not_collapse_worst_case():
    """Debris every 4 m, 1 m errors, each find in its own photo: single linkage with the same
    pair gate chains the whole line into one object; centre-gated clustering must not."""
    n = 50
    objects = [Obj("floating_debris", 4.0 * i, 0.0, 1.0) for i in range(n)]
    finds, truth = solo_views(objects, 5, 1.0, seed=3)
    assert single_linkage_components(finds, 2.5, 1.0) <= 2  # the scenario really snowballs
    res = dedup_flight(finds, "F1")
    per = objects_per_ticket(res.new_tickets, truth)
    spans = [max(s) - min(s) + 1 for s in per]
    print(f"chain worst case: {n} objects -> {len(res.new_tickets)} tickets, widest spans {max(spans)} objects")
    assert len(res.new_tickets) >= n // 2
    assert max(spans) <= 3  # a ticket never covers more than ~2 gate widths of river


def test_debris_chain_in_survey_photos_resolves():
    """Same chain in a real survey: the finds of one photo cannot merge, which separates it."""
    n = 50
    objects = [Obj("floating_debris", 4.0 * i, 0.0, 1.0) for i in range(n)]
    finds, truth = survey(objects, lawnmower(0, 4.0 * n, 0, 0), seed=4, err_range=(1.0, 1.0), known_size=False)
    res = dedup_flight(finds, "F1")
    per = objects_per_ticket(res.new_tickets, truth)
    pure = sum(len(s) == 1 for s in per)
    print(f"chain in survey: {n} objects, {len(finds)} finds -> {len(res.new_tickets)} tickets, {pure} pure")
    assert max(max(s) - min(s) + 1 for s in per) <= 2
    assert 0.8 * n <= len(res.new_tickets) <= 1.3 * n


def test_different_classes_never_merge():
    lon, lat = to_lonlat(0, 0)
    finds = [
        Find("a#0", "a.JPG", "floating_debris", 0.9, (0, 0, 10, 10), lat, lon, 2.0),
        Find("b#0", "b.JPG", "boat", 0.8, (0, 0, 10, 10), lat, lon, 2.0),
        Find("c#0", "c.JPG", "floating_debris", 0.7, (0, 0, 10, 10), lat, lon, 2.0),
    ]
    res = dedup_flight(finds, "F1")
    assert sorted((t.class_name, t.n_views) for t in res.new_tickets) == [("boat", 1), ("floating_debris", 2)]


def test_same_photo_finds_do_not_merge_unless_boxes_overlap():
    lon0, lat0 = to_lonlat(0, 0)
    lon1, lat1 = to_lonlat(1.0, 0)
    a = Find("p#0", "p.JPG", "floating_debris", 0.9, (1000, 1000, 1050, 1050), lat0, lon0, 3.0)
    b = Find("p#1", "p.JPG", "floating_debris", 0.8, (1060, 1000, 1100, 1050), lat1, lon1, 3.0)
    assert len(dedup_flight([a, b], "F1").new_tickets) == 2
    # fragments of one object (overlapping boxes, e.g. from tiled inference) do merge
    b2 = replace(b, box=(1030, 1000, 1100, 1050))
    res = dedup_flight([a, b2], "F1")
    assert len(res.new_tickets) == 1 and res.new_tickets[0].n_views == 1
    # a third photo seeing the object near both: joins one of them, never bridges them
    c = Find("q#0", "q.JPG", "floating_debris", 0.95, (0, 0, 50, 50), lat0, (lon0 + lon1) / 2, 3.0)
    res = dedup_flight([a, b, c], "F1")
    assert len(res.new_tickets) == 2
    assert all(len({f.image for f in t.evidence}) == len(t.evidence) for t in res.new_tickets)


def test_ticket_fields():
    objects = [Obj("sand_dredger", 0.0, 0.0, 30.0), Obj("floating_debris", 100.0, 0.0, 1.0)]
    finds, truth = survey(objects, lawnmower(0, 100, -10, 10), 11, err_range=(1.0, 2.0))
    res = dedup_flight(finds, "F7")
    check_one_ticket_per_object(res.new_tickets, truth, 2)
    for t in res.new_tickets:
        ob = objects[truth[t.evidence[0].id]]
        x, y = to_xy(t.lon, t.lat)
        assert t.position == (t.lat, t.lon)
        assert math.hypot(x - ob.x, y - ob.y) <= max(3 * t.error_m, 1.0)
        assert t.error_m >= 0.5
        w = np.array([1 / max(f.error_m, 0.5) ** 2 for f in t.evidence])
        xy = np.array([to_xy(f.lon, f.lat) for f in t.evidence])
        spread = math.sqrt((w * ((xy - (w[:, None] * xy).sum(0) / w.sum()) ** 2).sum(1)).sum() / w.sum())
        assert t.error_m >= spread * 0.999
        assert t.error_m <= max(f.error_m for f in t.evidence) or t.error_m == pytest.approx(spread, rel=1e-3)
        assert t.score == max(f.score for f in t.evidence)
        assert t.n_views == len({f.image for f in t.evidence}) == len(t.evidence)
        assert t.best is t.evidence[0] and t.flight_id == "F7" and t.id.startswith("tk-")
        assert t.class_name == ob.cls
    no = dedup_flight(finds, "F7", params=DedupParams(score_mode="noisy_or")).new_tickets
    for t in no:
        assert t.score == pytest.approx(1 - np.prod([1 - f.score for f in t.evidence]))


def test_best_view_is_near_nadir_then_high_score():
    lon, lat = to_lonlat(0, 0)
    def mk(i: int, score: float, ang: float | None) -> Find:
        return Find(f"v{i}", f"v{i}.JPG", "boat", score, (0, 0, 10, 10), lat, lon, 1.0, off_nadir_deg=ang)
    views = [mk(0, 0.95, 40.0), mk(1, 0.70, 3.0), mk(2, 0.72, 12.0), mk(3, 0.99, None), mk(4, 0.40, 0.0)]
    t = dedup_flight(views, "F1").new_tickets[0]
    # quality = score * cos^2(off-nadir): 0.557, 0.698, 0.689, 0.495 (unknown = 45 deg), 0.40
    assert t.best.id == "v1"
    assert [f.id for f in t.evidence] == ["v1", "v2", "v0", "v3", "v4"]
    assert view_quality(views[3]) == pytest.approx(0.99 * 0.5)
    # a full tie (quality, angle, error) falls back to image name: deterministic
    tie = [mk(6, 0.8, 0.0), mk(5, 0.8, 0.0)]
    assert dedup_flight(tie, "F1").new_tickets[0].best.id == "v5"


# --------------------------------------------------------------------------- across flights


def test_seen_again_not_seen_and_untouched():
    objects = [Obj("floating_debris", 20.0, 0.0, 1.0), Obj("boat", 120.0, 5.0, 8.0)]
    photos = lawnmower(0, 200, 0, 0)
    finds, truth = survey(objects, photos, 21, err_range=(1.0, 2.0))
    fps = [(p.name, footprint(p)) for p in photos]

    def ticket(tid, cls, x, y, err=3.0, state="confirmed"):
        lon, lat = to_lonlat(x, y)
        return OpenTicket(tid, cls, lat, lon, err, state)

    open_tickets = [
        ticket("T-debris-again", "floating_debris", 22.0, 3.0),  # moved 3.6 m: within its 3 m error gate
        ticket("T-gone", "floating_debris", 80.0, -5.0),  # covered, nothing there now
        ticket("T-wrong-class", "floating_debris", 120.0, 5.0),  # a boat is there, not debris
        ticket("T-outside", "floating_debris", 600.0, 0.0),  # far outside the flight
        ticket("T-edge", "waste_pile", max(p.cx for p in photos) + W_M / 2 - 2, 0.0, err=5.0),  # 2 m inside < 5 m error
        ticket("T-closed", "floating_debris", 150.0, 0.0, state="closed"),  # not open: ignored
    ]
    res = dedup_flight(finds, "F2", open_tickets, fps)
    assert [(tid, d.class_name) for tid, d in res.seen_again] == [("T-debris-again", "floating_debris")]
    assert [t.class_name for t in res.new_tickets] == ["boat"]
    ns = dict(res.not_seen)
    assert set(ns) == {"T-gone", "T-wrong-class"}
    # the images listed are exactly those whose footprint has the ticket well inside
    for tid, (x, y) in {"T-gone": (80.0, -5.0), "T-wrong-class": (120.0, 5.0)}.items():
        expect = [p.name for p in photos if abs(x - p.cx) <= W_M / 2 - 3 and abs(y - p.cy) <= H_M / 2 - 3]
        assert sorted(ns[tid]) == sorted(expect) and expect


def test_one_open_ticket_absorbs_at_most_one_cluster():
    lon, lat = to_lonlat(0, 0)
    lon2, lat2 = to_lonlat(3.0, 0)
    a = Find("p#0", "p.JPG", "floating_debris", 0.9, (0, 0, 10, 10), lat, lon, 0.5)
    b = Find("p#1", "p.JPG", "floating_debris", 0.8, (20, 0, 30, 10), lat2, lon2, 0.5)
    old = OpenTicket("T1", "floating_debris", lat, lon, 5.0, "dispatched")
    res = dedup_flight([a, b], "F2", [old])
    assert [(tid, d.best.id) for tid, d in res.seen_again] == [("T1", "p#0")]  # the nearer one
    assert [d.best.id for d in res.new_tickets] == ["p#1"]


def test_open_ticket_with_no_footprints_is_untouched():
    lon, lat = to_lonlat(0, 0)
    res = dedup_flight([], "F3", [OpenTicket("T1", "boat", lat, lon, 2.0)], [])
    assert res.new_tickets == [] and res.seen_again == [] and res.not_seen == []
    fp = Polygon([to_lonlat(-40, -30), to_lonlat(40, -30), to_lonlat(40, 30), to_lonlat(-40, 30)])
    res = dedup_flight([], "F3", [OpenTicket("T1", "boat", lat, lon, 2.0)], [("x.JPG", fp)])
    assert res.not_seen == [("T1", ["x.JPG"])]


# --------------------------------------------------------------------------- robustness


def test_deterministic_and_independent_of_input_order():
    objects = river_objects(24, 5)
    finds, truth = survey(objects, lawnmower(0, 24 * 35, -10, 10), 5)
    a = dedup_flight(finds, "F9")
    b = dedup_flight(list(finds), "F9")
    shuffled = list(finds)
    random.Random(1).shuffle(shuffled)
    c = dedup_flight(shuffled, "F9")

    def sig(r):
        return sorted((t.id, t.lat, t.lon, t.error_m, tuple(f.id for f in t.evidence)) for t in r.new_tickets)

    assert sig(a) == sig(b) == sig(c)
    assert len({t.id for t in a.new_tickets}) == len(a.new_tickets)
    assert {t.id for t in dedup_flight(finds, "F10").new_tickets}.isdisjoint({t.id for t in a.new_tickets})


def test_bad_finds_are_skipped_with_a_reason():
    lon, lat = to_lonlat(0, 0)
    good = Find("g#0", "g.JPG", "boat", 0.9, (0, 0, 10, 10), lat, lon, 1.0)
    bad = [replace(good, id="b#0", lat=float("nan")), replace(good, id="b#1", error_m=float("inf")),
           replace(good, id="b#2", lon=200.0)]
    res = dedup_flight([good, *bad], "F1")
    assert len(res.new_tickets) == 1
    assert [fid for fid, _ in res.skipped] == ["b#0", "b#1", "b#2"]
    assert all(reason for _, reason in res.skipped)
    with pytest.raises(ValueError):
        DedupParams(gate_k=0)


def test_5000_finds_are_fast():
    objects = river_objects(640, 9, spacing=8.0)  # dense: an object every 8 m along 5 km
    finds, truth = survey(objects, lawnmower(0, 640 * 8.0, -10, 10), 9)
    finds = finds[:5000]
    assert len(finds) == 5000
    t0 = time.perf_counter()
    res = dedup_flight(finds, "F1")
    dt = time.perf_counter() - t0
    per = objects_per_ticket(res.new_tickets, truth)
    print(f"\n5000 finds -> {len(res.new_tickets)} tickets in {dt:.3f} s; "
          f"{sum(len(s) == 1 for s in per)} pure, {len({next(iter(s)) for s in per if len(s) == 1})} objects")
    assert dt < 3.0
