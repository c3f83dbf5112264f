"""De-duplication: one object seen in overlapping photos (and on later flights) -> one ticket.

Model (details and the reasoning in docs/dedup.md):

* Positions are compared in metres, in the local East-North-Up frame of ``pipeline.geo.utm``
  (the flight's UTM zone, corrected for meridian convergence and scale) centred on the
  flight's centroid. No equirectangular shortcut.
* ``Find.error_m`` is a 1-sigma *radial* horizontal error (as ``pipeline.geo.georef`` produces it).
  Two positions with radial errors e1, e2 are "the same place" when

      d <= k * sqrt(e1^2 + e2^2) + a * size

  For isotropic Gaussian errors the first term is a chi-square (2 dof) gate that a true pair
  fails with probability exp(-k^2): k = 2.5 -> 0.19 %. ``size`` is the object's ground size
  (``Find.size_m`` when known, else a per-class default) and ``a = 0.5``: a box centre can move
  by up to half the object's length between a full and a cut-off view.
* Clustering is greedy and centre-gated, so it cannot chain: seeds are taken best score first;
  a cluster grows by repeatedly admitting the unassigned same-class find nearest to the
  cluster's *inverse-variance weighted centre* (in units of its gate), where the centre's error
  is the formal 1/sqrt(sum 1/e_i^2) and is re-estimated after every admission. Every member is
  within one gate of the centre at the time it joins, so a cluster's extent stays bounded no
  matter how long a line of debris is.
* Two finds from the same photo are never merged unless their boxes overlap in pixels
  (intersection >= ``same_image_min_overlap`` of the smaller box): a detector does not report
  one object twice in one photo except as overlapping fragments.
* Across flights, each new cluster is matched to at most one open ticket of the same class
  with the same gate (using the cluster's and ticket's combined errors), one-to-one, best
  gate ratio first. Unmatched open tickets well inside a photo footprint (by a margin of
  ``not_seen_margin_k`` times their error) are "not seen"; others are untouched.

Neighbour search uses a shapely STRtree (runtime dependency already), so thousands of finds
cluster in well under a second.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.strtree import STRtree

from heyan.pipeline.geo.utm import LocalFrame
from heyan.pipeline.tickets.finds import Find
from heyan.vision.nms import pairwise_overlap

__all__ = [
    "DEFAULT_CLASS_SIZE_M",
    "DedupParams",
    "DedupResult",
    "OpenTicket",
    "TicketDraft",
    "dedup_flight",
    "view_quality",
]

# Typical ground size (longer side, metres) of each class, used when a find has no size_m.
DEFAULT_CLASS_SIZE_M: dict[str, float] = {
    "floating_debris": 2.0,
    "sand_dredger": 30.0,
    "boat": 8.0,
    "waste_pile": 8.0,
    "structure": 15.0,
}


@dataclass(frozen=True)
class DedupParams:
    gate_k: float = 2.5  # gate multiplier on the combined radial 1-sigma error (miss rate exp(-k^2))
    class_size_m: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_CLASS_SIZE_M))
    default_size_m: float = 5.0  # size of a class missing from class_size_m
    size_allowance: float = 0.5  # fraction of the object size added to the gate
    min_error_m: float = 0.5  # floor on every error: find errors, and a ticket's error_m
    same_image_min_overlap: float = 0.1  # box intersection / smaller box area to merge same-photo finds
    score_mode: str = "max"  # "max" (default) or "noisy_or" (over photos, each photo's best score)
    unknown_off_nadir_deg: float = 45.0  # assumed view angle of a find without off_nadir_deg
    not_seen_margin_k: float = 1.0  # a ticket must be this many error_m inside a footprint
    inactive_states: frozenset[str] = frozenset({"closed", "rejected"})  # open tickets to ignore

    def __post_init__(self) -> None:
        for name in ("gate_k", "min_error_m", "default_size_m"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"DedupParams.{name} must be a positive number, got {v!r}")
        for name in ("size_allowance", "same_image_min_overlap", "not_seen_margin_k"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise ValueError(f"DedupParams.{name} must be >= 0, got {v!r}")
        if self.score_mode not in ("max", "noisy_or"):
            raise ValueError(f"DedupParams.score_mode must be 'max' or 'noisy_or', got {self.score_mode!r}")
        for cls, s in self.class_size_m.items():
            if not (math.isfinite(s) and s >= 0):
                raise ValueError(f"DedupParams.class_size_m[{cls!r}] must be >= 0, got {s!r}")

    def size_of(self, class_name: str, size_m: float | None = None) -> float:
        """Ground size used for the gate: size_m when known, else the class default."""
        if size_m is not None and math.isfinite(size_m) and size_m > 0:
            return float(size_m)
        return float(self.class_size_m.get(class_name, self.default_size_m))


@dataclass
class OpenTicket:
    """A ticket from an earlier flight that is still open (the caller reads these from the store)."""

    id: str
    class_name: str
    lat: float
    lon: float
    error_m: float
    state: str = "confirmed"
    size_m: float | None = None  # ground size when known; else the class default is used


@dataclass
class TicketDraft:
    """One object of one flight: the cluster of finds that saw it."""

    id: str  # "tk-" + 16 hex of sha1(flight_id, best.image, best.id): stable for the same input
    flight_id: str
    class_name: str
    lat: float  # inverse-variance weighted mean position
    lon: float
    error_m: float  # 1-sigma radial: max(weighted-mean member error, member spread, floor)
    score: float  # max member score (or noisy-OR, see DedupParams.score_mode)
    evidence: list[Find]  # every member find, best view first
    best: Find  # the view for the thumbnail (see view_quality)
    n_views: int  # distinct photos among the evidence
    size_m: float | None = None  # largest known member size_m

    @property
    def position(self) -> tuple[float, float]:
        return (self.lat, self.lon)


@dataclass
class DedupResult:
    new_tickets: list[TicketDraft] = field(default_factory=list)
    seen_again: list[tuple[str, TicketDraft]] = field(default_factory=list)  # (open ticket id, draft)
    not_seen: list[tuple[str, list[str]]] = field(default_factory=list)  # (open ticket id, images covering it)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (find id, reason): unusable finds


# --------------------------------------------------------------------------- helpers


def view_quality(find: Find, params: DedupParams = DedupParams()) -> float:
    """How good a find is as the ticket's picture: score * cos^2(off-nadir angle).

    The detector's confidence, discounted by how oblique the view is (cos^2: 30 deg costs 25 %,
    45 deg half). Finds without off_nadir_deg count as ``params.unknown_off_nadir_deg``.
    """
    return float(find.score) * math.cos(math.radians(_off_nadir(find, params))) ** 2


def _off_nadir(find: Find, params: DedupParams) -> float:
    a = find.off_nadir_deg
    if a is None or not math.isfinite(a):
        return params.unknown_off_nadir_deg
    return min(abs(float(a)), 90.0)


def _view_key(find: Find, err: float, params: DedupParams) -> tuple:
    # Best first: quality, then nearer nadir, then smaller error, then a stable name order.
    return (-view_quality(find, params), _off_nadir(find, params), err, str(find.image), str(find.id))


def _same_object_boxes(a: np.ndarray, b: np.ndarray, p: DedupParams) -> bool:
    # Intersection over the smaller box: a part of an object seen whole elsewhere is the same.
    ov = float(pairwise_overlap(np.asarray(a, np.float64).reshape(1, 4), np.asarray(b, np.float64).reshape(1, 4), "ios")[0, 0])
    return ov > 0 and ov >= p.same_image_min_overlap


def _ticket_id(flight_id: str, best: Find) -> str:
    h = hashlib.sha1(f"{flight_id}\x00{best.image}\x00{best.id}".encode()).hexdigest()
    return f"tk-{h[:16]}"


def _valid_find(f: Find) -> str | None:
    try:
        lat, lon, err, score = float(f.lat), float(f.lon), float(f.error_m), float(f.score)
    except (TypeError, ValueError):
        return "non-numeric lat/lon/error_m/score"
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return f"invalid position lat={f.lat} lon={f.lon}"
    if not (math.isfinite(err) and err >= 0):
        return f"invalid error_m={f.error_m}"
    if not math.isfinite(score):
        return f"invalid score={f.score}"
    if not f.class_name:
        return "no class_name"
    return None


# --------------------------------------------------------------------------- clustering


def _cluster(xy: np.ndarray, err: np.ndarray, size: np.ndarray, cls: np.ndarray, img: np.ndarray,
             boxes: np.ndarray, order: np.ndarray, p: DedupParams) -> list[list[int]]:
    """Greedy centre-gated clustering. ``order``: seed order (best first). Returns member index lists."""
    n = len(xy)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    assigned = np.zeros(n, dtype=bool)
    w = 1.0 / err**2
    k, a = p.gate_k, p.size_allowance

    index: dict[int, tuple[np.ndarray, STRtree, float, float]] = {}
    for c in np.unique(cls):
        idx = np.flatnonzero(cls == c)
        tree = STRtree(shapely.points(xy[idx]))
        index[int(c)] = (idx, tree, float(err[idx].max()), float(size[idx].max()))

    clusters: list[list[int]] = []
    for seed in order:
        if assigned[seed]:
            continue
        idx, tree, emax, smax = index[int(cls[seed])]
        assigned[seed] = True
        members = [int(seed)]
        by_img: dict[int, list[int]] = {int(img[seed]): [int(seed)]}
        blocked: set[int] = set()
        sw = w[seed]
        sx, sy = sw * xy[seed, 0], sw * xy[seed, 1]
        centre = xy[seed].copy()
        csize = size[seed]
        # Upper bound of any gate of this cluster: its centre error only shrinks, its size
        # grows up to the class maximum. Candidates are fetched within reach + slack of the
        # query point and re-fetched when the centre drifts more than the slack.
        reach = k * math.sqrt(1.0 / sw + emax**2) + a * max(csize, smax)
        slack = 0.5 * reach

        # Bound now: the closure is called only in this iteration (as ruff's B023 wants it said).
        def fetch(at: np.ndarray, tree: STRtree = tree, idx: np.ndarray = idx, reach: float = reach, slack: float = slack,
                  blocked: set[int] = blocked) -> np.ndarray:
            hits = tree.query(shapely.points(at), predicate="dwithin", distance=reach + slack)
            cand = idx[hits]
            cand = cand[~assigned[cand]]
            if blocked:
                cand = cand[~np.isin(cand, list(blocked))]
            return cand[np.argsort(rank[cand], kind="stable")]

        query_at = centre.copy()
        cand = fetch(query_at)
        while len(cand):
            sig2 = 1.0 / sw
            d = np.hypot(xy[cand, 0] - centre[0], xy[cand, 1] - centre[1])
            gate = k * np.sqrt(sig2 + err[cand] ** 2) + a * np.maximum(csize, size[cand])
            ratio = d / gate
            j = int(np.argmin(ratio))  # first minimum = best seed rank among ties
            if ratio[j] > 1.0:
                break
            f = int(cand[j])
            cand = np.delete(cand, j)
            same = by_img.get(int(img[f]))
            if same is not None and not any(_same_object_boxes(boxes[f], boxes[m], p) for m in same):
                blocked.add(f)  # another object in a photo already represented in the cluster
                continue
            assigned[f] = True
            members.append(f)
            by_img.setdefault(int(img[f]), []).append(f)
            sw += w[f]
            sx += w[f] * xy[f, 0]
            sy += w[f] * xy[f, 1]
            centre = np.array([sx / sw, sy / sw])
            csize = max(csize, size[f])
            if math.hypot(*(centre - query_at)) > slack:
                query_at = centre.copy()
                cand = fetch(query_at)
        clusters.append(members)
    return clusters


# --------------------------------------------------------------------------- main entry


def dedup_flight(
    finds: Sequence[Find],
    flight_id: str,
    open_tickets: Iterable[OpenTicket] = (),
    footprints: Iterable[tuple[str, Polygon]] = (),
    params: DedupParams = DedupParams(),
) -> DedupResult:
    """Cluster a flight's finds into ticket drafts and relate them to earlier open tickets.

    ``footprints``: (image name, photo footprint polygon in lon/lat) of every photo of the
    flight (not only those with finds). Returns new tickets, seen-again pairs, not-seen
    suggestions and the finds that could not be used (with a reason).
    """
    p = params
    result = DedupResult()
    tickets = [t for t in open_tickets if t.state not in p.inactive_states]
    footprints = [(str(name), poly) for name, poly in footprints if poly is not None and not poly.is_empty]

    good: list[Find] = []
    for f in finds:
        reason = _valid_find(f)
        if reason is None:
            good.append(f)
        else:
            result.skipped.append((str(f.id), reason))

    frame = _frame(good, footprints, tickets)
    if frame is None:
        return result

    drafts, draft_xy = _drafts(good, flight_id, frame, p)
    matched = _match_open(drafts, draft_xy, tickets, frame, p)
    for di, draft in enumerate(drafts):
        if di in matched:
            result.seen_again.append((matched[di], draft))
        else:
            result.new_tickets.append(draft)

    seen_ids = set(matched.values())
    result.not_seen = _not_seen([t for t in tickets if t.id not in seen_ids], footprints, frame, p)
    return result


def _frame(finds: list[Find], footprints: list[tuple[str, Polygon]], tickets: list[OpenTicket]) -> LocalFrame | None:
    if finds:
        # fsum is exactly rounded, so the frame (and every float after it) ignores input order
        lon = math.fsum(float(f.lon) for f in finds) / len(finds)
        lat = math.fsum(float(f.lat) for f in finds) / len(finds)
    elif footprints:
        cs = [poly.centroid for _, poly in footprints]
        lon, lat = math.fsum(c.x for c in cs) / len(cs), math.fsum(c.y for c in cs) / len(cs)
    else:
        return None  # nothing seen and no coverage: no evidence about anything
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return None
    return LocalFrame(lon, lat)


def _drafts(finds: list[Find], flight_id: str, frame: LocalFrame, p: DedupParams) -> tuple[list[TicketDraft], np.ndarray]:
    if not finds:
        return [], np.zeros((0, 2))
    n = len(finds)
    e, nn = frame.lonlat_to_enu(np.array([f.lon for f in finds], float), np.array([f.lat for f in finds], float))
    xy = np.column_stack([e, nn])
    err = np.maximum(np.array([float(f.error_m) for f in finds]), p.min_error_m)
    size = np.array([p.size_of(f.class_name, f.size_m) for f in finds])
    score = np.array([float(f.score) for f in finds])
    classes = sorted({f.class_name for f in finds})
    cls = np.array([classes.index(f.class_name) for f in finds])
    images = sorted({str(f.image) for f in finds})
    img_pos = {im: i for i, im in enumerate(images)}
    img = np.array([img_pos[str(f.image)] for f in finds])
    boxes = np.array([[float(v) for v in f.box] for f in finds], float).reshape(n, 4)
    # Seed order: highest score, then smallest error, then name: independent of input order.
    order = np.array(sorted(range(n), key=lambda i: (-score[i], err[i], str(finds[i].image), str(finds[i].id))))

    clusters = _cluster(xy, err, size, cls, img, boxes, order, p)

    drafts: list[TicketDraft] = []
    centres = np.zeros((len(clusters), 2))
    for ci, members in enumerate(clusters):
        m = np.array(members)
        w = 1.0 / err[m] ** 2
        c = (w[:, None] * xy[m]).sum(0) / w.sum()
        centres[ci] = c
        mean_err = float((w * err[m]).sum() / w.sum())
        spread = float(math.sqrt((w * ((xy[m] - c) ** 2).sum(1)).sum() / w.sum()))
        lon, lat = frame.enu_to_lonlat(np.array([c[0]]), np.array([c[1]]))
        ev = sorted(members, key=lambda i: _view_key(finds[i], err[i], p))
        best = finds[ev[0]]
        per_image: dict[int, float] = {}
        for i in members:
            per_image[int(img[i])] = max(per_image.get(int(img[i]), 0.0), float(score[i]))
        if p.score_mode == "noisy_or":
            sc = 1.0 - float(np.prod([1.0 - min(max(s, 0.0), 1.0) for s in per_image.values()]))
        else:
            sc = float(score[m].max())
        known = [float(finds[i].size_m) for i in members
                 if finds[i].size_m is not None and math.isfinite(finds[i].size_m) and finds[i].size_m > 0]
        drafts.append(TicketDraft(
            id=_ticket_id(flight_id, best),
            flight_id=flight_id,
            class_name=best.class_name,
            lat=float(lat[0]),
            lon=float(lon[0]),
            error_m=max(mean_err, spread, p.min_error_m),
            score=sc,
            evidence=[finds[i] for i in ev],
            best=best,
            n_views=len(per_image),
            size_m=max(known) if known else None,
        ))
    return drafts, centres


def _match_open(drafts: list[TicketDraft], draft_xy: np.ndarray, tickets: list[OpenTicket],
                frame: LocalFrame, p: DedupParams) -> dict[int, str]:
    """draft index -> open ticket id; one-to-one, best gate ratio first."""
    if not drafts or not tickets:
        return {}
    te, tn = frame.lonlat_to_enu(np.array([float(t.lon) for t in tickets]), np.array([float(t.lat) for t in tickets]))
    pairs: list[tuple[float, int, str, int]] = []
    k, a = p.gate_k, p.size_allowance
    by_class: dict[str, list[int]] = {}
    for ti, t in enumerate(tickets):
        if math.isfinite(te[ti]) and math.isfinite(tn[ti]) and math.isfinite(float(t.error_m)):
            by_class.setdefault(t.class_name, []).append(ti)
    trees = {}
    for cls, tis in by_class.items():
        arr = np.array(tis)
        terr = np.array([max(float(tickets[i].error_m), p.min_error_m) for i in tis])
        tsize = np.array([p.size_of(cls, tickets[i].size_m) for i in tis])
        trees[cls] = (arr, STRtree(shapely.points(np.column_stack([te[arr], tn[arr]]))), terr, tsize)
    for di, d in enumerate(drafts):
        entry = trees.get(d.class_name)
        if entry is None:
            continue
        arr, tree, terr, tsize = entry
        dsize = p.size_of(d.class_name, d.size_m)
        reach = k * math.sqrt(d.error_m**2 + terr.max() ** 2) + a * max(dsize, tsize.max())
        hits = tree.query(shapely.points(draft_xy[di]), predicate="dwithin", distance=reach)
        for h in hits:
            ti = int(arr[h])
            dist = math.hypot(te[ti] - draft_xy[di, 0], tn[ti] - draft_xy[di, 1])
            gate = k * math.sqrt(d.error_m**2 + terr[h] ** 2) + a * max(dsize, tsize[h])
            if dist <= gate:
                pairs.append((dist / gate, di, str(tickets[ti].id), ti))
    pairs.sort(key=lambda q: (q[0], q[1], q[2]))
    out: dict[int, str] = {}
    used: set[int] = set()
    for _, di, tid, ti in pairs:
        if di in out or ti in used:
            continue
        out[di] = tid
        used.add(ti)
    return out


def _not_seen(tickets: list[OpenTicket], footprints: list[tuple[str, Polygon]], frame: LocalFrame,
              p: DedupParams) -> list[tuple[str, list[str]]]:
    if not tickets or not footprints:
        return []

    def to_enu(coords: np.ndarray) -> np.ndarray:
        e, n = frame.lonlat_to_enu(coords[:, 0], coords[:, 1])
        return np.column_stack([e, n])

    names, polys = [], []
    for name, poly in footprints:
        g = shapely.transform(poly, to_enu)
        if not g.is_valid:
            g = shapely.make_valid(g)
        if g.is_empty or not np.isfinite(shapely.get_coordinates(g)).all():
            continue
        names.append(name)
        polys.append(g)
    if not polys:
        return []
    polys_arr = np.array(polys, dtype=object)
    boundaries = shapely.boundary(polys_arr)
    tree = STRtree(polys_arr)
    te, tn = frame.lonlat_to_enu(np.array([float(t.lon) for t in tickets]), np.array([float(t.lat) for t in tickets]))
    out: list[tuple[str, list[str]]] = []
    for ti, t in enumerate(tickets):
        if not (math.isfinite(te[ti]) and math.isfinite(tn[ti]) and math.isfinite(float(t.error_m))):
            continue
        pt = shapely.points(te[ti], tn[ti])
        hits = np.sort(tree.query(pt, predicate="within"))
        if not len(hits):
            continue
        margin = p.not_seen_margin_k * max(float(t.error_m), p.min_error_m)
        dist = shapely.distance(boundaries[hits], pt)
        covering = list(dict.fromkeys(names[h] for h, dd in zip(hits, dist) if dd >= margin))
        if covering:
            out.append((str(t.id), covering))
    return out
