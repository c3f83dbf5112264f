"""Rules: detection class + place on the river + time -> violation category, or no ticket.

The table is YAML the office can edit (``rules_default.yaml`` is shipped and documents the
language in its comments). It is deliberately small and declarative:

* ``categories``: id -> Chinese name, severity, deadline in days;
* ``rules``: an ordered list; each has an ``id``, a detection ``class`` (a name, a list, or
  ``"*"``), optional ``when`` conditions from a fixed set (all must hold), a ``category``
  (or ``null``: no ticket, logged) and a ``reason``. The first matching rule wins.

Before the rules, a find with no place (``RiverNetwork.locate`` returned None) or farther
than ``settings.max_distance_m`` from the centreline gets no ticket (``too_far``); after
them, a find no rule matched gets no ticket (``no_rule``). Every decision names the rule
that made it and says why.
"""

from __future__ import annotations

import logging
import math
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from heyan.pipeline.tickets.finds import Find
from heyan.vision.classes import class_names
from heyan.vision.common import BEIJING, ProblemsError

if TYPE_CHECKING:  # rules need only Place's attributes; the edge box need not load shapely
    from heyan.pipeline.geo.rivers import Place

__all__ = [
    "CONDITIONS",
    "EDGE_EVENT_KINDS",
    "EVENT_CLASSES",
    "Category",
    "Decision",
    "Rule",
    "RuleSet",
    "RulesError",
    "DEFAULT_RULES_PATH",
    "evaluate",
    "load_rules",
]

log = logging.getLogger("heyan.rules")

DEFAULT_RULES_PATH = Path(__file__).with_name("rules_default.yaml")
# Conditions an edge box's outfall watch reports (edge/outfall.py): rule classes like the
# detector's, so the office's rules table decides about them too, but not detector classes.
EVENT_CLASSES = ("dry_weather_discharge", "abnormal_colour")
# What an edge event is about (the box -> server contract, edge/README.md): an object the
# detector found, an outfall condition, or the camera itself (a frozen picture).
EDGE_EVENT_KINDS = ("object", *EVENT_CLASSES, "stream_frozen")
KNOWN_CLASSES = (*class_names(), *EVENT_CLASSES)
SEVERITIES = ("low", "medium", "high", "critical")
TOO_FAR = "too_far"
NO_RULE = "no_rule"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_CAT_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_TZ = re.compile(r"^([+-])(\d{2}):(\d{2})$")
_RULE_KEYS = {"id", "class", "when", "category", "reason", "note"}
_CATEGORY_KEYS = {"name_zh", "name_en", "severity", "deadline_days", "note"}
_SETTINGS = {"max_distance_m": 300.0, "registered_tolerance_m": 15.0, "timezone": "+08:00"}

# condition name -> kind of value it takes
CONDITIONS: dict[str, str] = {
    "on_water": "bool",  # on water; where the network cannot tell, inside the management zone
    "in_zone": "bool",  # inside a management zone (河道管理范围)
    "in_prohibited_area": "bool",  # inside a 禁采区
    "in_closed_season": "bool",  # local date in a 禁采期 that applies here
    "outside_permitted_mining": "bool",  # not inside a 可采区 whose permit is valid that day
    "not_registered_structure": "bool_or_number",  # no registered structure within tolerance (m)
    "max_distance_m": "number",  # distance to the centreline <= value
    "min_score": "number",  # detector score >= value
}

PLACEHOLDERS = ("class", "score", "segment", "segment_id", "river", "bank", "chainage_km", "distance_m",
                "mining_area", "permit", "permit_no", "permit_period", "closed_season", "structure",
                "structure_distance_m", "date", "max_distance_m")


class RulesError(ProblemsError):
    """A rules file that cannot be used; ``errors`` lists every problem found."""

    what = "rules"


@dataclass(frozen=True)
class Category:
    id: str
    name_zh: str
    severity: str
    deadline_days: int
    name_en: str | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    classes: tuple[str, ...]  # ("*",) = any class
    when: tuple[tuple[str, Any], ...]
    category: str | None
    reason: str | None
    index: int

    def matches_class(self, class_name: str) -> bool:
        return "*" in self.classes or class_name in self.classes


@dataclass(frozen=True)
class Decision:
    """What to do with one find. ``category`` None: no ticket (keep the decision as a log)."""

    category: str | None
    rule_id: str
    reason: str
    severity: str | None = None
    deadline_days: int | None = None
    category_name: str | None = None  # Chinese name, e.g. 漂浮物
    find_id: str | None = None

    @property
    def ticket(self) -> bool:
        return self.category is not None

    def to_dict(self) -> dict[str, Any]:
        return {"category": self.category, "category_name": self.category_name, "rule_id": self.rule_id,
                "reason": self.reason, "severity": self.severity, "deadline_days": self.deadline_days,
                "find_id": self.find_id}


@dataclass
class RuleSet:
    categories: dict[str, Category]
    rules: list[Rule]
    max_distance_m: float = 300.0
    registered_tolerance_m: float = 15.0
    tz: timezone = BEIJING
    source: str = "<rules>"
    warnings: list[str] = field(default_factory=list)

    def evaluate(self, find: Find, place: Place | None, when: datetime | None = None) -> Decision:
        """Decide for one find at its place and time (``when`` defaults to ``find.time``)."""
        day = self._local_date(find, when)
        if place is None or place.distance_m > self.max_distance_m:
            far = "" if place is None else f"（{place.distance_m:.0f} m）"
            return self._none(find, TOO_FAR, f"离河道过远{far}，{self.max_distance_m:g} m 内无河段 / too far from "
                                             f"any river (no segment within {self.max_distance_m:g} m)")
        for rule in self.rules:
            if not rule.matches_class(find.class_name):
                continue
            ctx: dict[str, Any] = {}
            if all(_CHECKS[name](self, find, place, day, value, ctx) for name, value in rule.when):
                return self._decide(rule, find, place, day, ctx)
        state = (f"in_zone={place.in_zone}, on_water={place.on_water}, {place.distance_m:.0f} m from "
                 f"{place.segment_name}")
        return self._none(find, NO_RULE, f"无适用规则 / no rule matched class '{find.class_name}' here ({state})")

    def _local_date(self, find: Find, when: datetime | None) -> date:
        if when is None:
            if not find.time:
                raise ValueError(f"find {find.id}: no time given and find.time is empty")
            when = datetime.fromisoformat(find.time.replace("Z", "+00:00"))
        if when.tzinfo is not None:
            when = when.astimezone(self.tz)
        return when.date()

    def _none(self, find: Find, rule_id: str, reason: str) -> Decision:
        log.debug("find %s (%s): no ticket, %s: %s", find.id, find.class_name, rule_id, reason)
        return Decision(None, rule_id, reason, find_id=find.id)

    def _decide(self, rule: Rule, find: Find, place: Place, day: date, ctx: dict[str, Any]) -> Decision:
        values = _context(find, place, day, ctx, self)
        reason = _format(rule.reason, values) if rule.reason else _auto_reason(rule, values)
        if rule.category is None:
            return self._none(find, rule.id, reason)
        cat = self.categories[rule.category]
        return Decision(cat.id, rule.id, reason, cat.severity, cat.deadline_days, cat.name_zh, find.id)


# --------------------------------------------------------------------------- conditions
# Each check: (ruleset, find, place, local date, value, ctx) -> bool; may leave facts in ctx
# for the reason text (which mining area, which closed season, which structure).


def _on_water(rs: RuleSet, f: Find, p: Place, d: date, v: bool, ctx: dict[str, Any]) -> bool:
    wet = p.on_water if p.on_water is not None else p.in_zone
    return wet == v


def _in_zone(rs: RuleSet, f: Find, p: Place, d: date, v: bool, ctx: dict[str, Any]) -> bool:
    return p.in_zone == v


def _in_prohibited(rs: RuleSet, f: Find, p: Place, d: date, v: bool, ctx: dict[str, Any]) -> bool:
    areas = p.prohibited_areas
    if areas:
        ctx["mining_area"] = areas[0].name or areas[0].id
    return bool(areas) == v


def _in_closed_season(rs: RuleSet, f: Find, p: Place, d: date, v: bool, ctx: dict[str, Any]) -> bool:
    season = p.closed_season_on(d)
    if season is not None:
        ctx["closed_season"] = season.label()
    return (season is not None) == v


def _outside_permitted(rs: RuleSet, f: Find, p: Place, d: date, v: bool, ctx: dict[str, Any]) -> bool:
    permitted = p.permitted_areas
    valid = [a for a in permitted if a.permit_valid_on(d)]
    area = (valid or permitted or (None,))[0]
    if area is not None:
        ctx["mining_area"] = area.name or area.id
        ctx["permit_no"] = area.permit_no
        ctx["permit_period"] = f"{area.permit_start}..{area.permit_end}"
        ctx["permit"] = f"{ctx['mining_area']} {area.permit_no} {ctx['permit_period']}"
    return (not valid) == v


def _not_registered(rs: RuleSet, f: Find, p: Place, d: date, v: bool | float, ctx: dict[str, Any]) -> bool:
    tol = rs.registered_tolerance_m if v is True or v is False else float(v)
    tol += max(f.error_m, 0.0) if math.isfinite(f.error_m) else 0.0
    dist = p.registered_structure_distance_m
    registered = dist is not None and dist <= tol
    if p.registered_structure_id is not None:
        ctx["structure"] = p.registered_structure_id
        ctx["structure_distance_m"] = dist
    want_unregistered = v is not False
    return (not registered) == want_unregistered


def _max_distance(rs: RuleSet, f: Find, p: Place, d: date, v: float, ctx: dict[str, Any]) -> bool:
    return p.distance_m <= v


def _min_score(rs: RuleSet, f: Find, p: Place, d: date, v: float, ctx: dict[str, Any]) -> bool:
    return f.score >= v


_CHECKS: dict[str, Callable[..., bool]] = {
    "on_water": _on_water,
    "in_zone": _in_zone,
    "in_prohibited_area": _in_prohibited,
    "in_closed_season": _in_closed_season,
    "outside_permitted_mining": _outside_permitted,
    "not_registered_structure": _not_registered,
    "max_distance_m": _max_distance,
    "min_score": _min_score,
}
assert set(_CHECKS) == set(CONDITIONS)


# --------------------------------------------------------------------------- reasons


def _context(f: Find, p: Place, d: date, ctx: dict[str, Any], rs: RuleSet) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(PLACEHOLDERS)
    out.update({
        "class": f.class_name, "score": f.score, "segment": p.segment_name, "segment_id": p.segment_id,
        "river": p.river, "bank": f"{p.bank_zh}/{p.bank}" if p.bank else None, "chainage_km": p.chainage_km,
        "distance_m": p.distance_m, "date": d.isoformat(), "max_distance_m": rs.max_distance_m,
    })
    # Facts of the place, whether or not a condition looked at them (conditions that did
    # may name a more specific one, below).
    permitted = p.permitted_areas
    area = next((a for a in permitted if a.permit_valid_on(d)), None) or (permitted[0] if permitted else None)
    out["permit"] = "不在任何可采区 / in no permitted area"
    if area is not None:
        out.update(mining_area=area.name or area.id, permit_no=area.permit_no,
                   permit_period=f"{area.permit_start}..{area.permit_end}")
        out["permit"] = f"{out['mining_area']} {area.permit_no} {out['permit_period']}"
    if p.prohibited_areas:
        out["mining_area"] = p.prohibited_areas[0].name or p.prohibited_areas[0].id
    season = p.closed_season_on(d)
    if season is not None:
        out["closed_season"] = season.label()
    if p.registered_structure_id is not None:
        out.update(structure=p.registered_structure_id, structure_distance_m=p.registered_structure_distance_m)
    out.update(ctx)
    return out


class _SafeFormatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if value is None:
            return "-"
        try:
            return super().format_field(value, format_spec)
        except (ValueError, TypeError):
            return str(value)


def _format(template: str, values: dict[str, Any]) -> str:
    return _SafeFormatter().vformat(template, (), values)


def _auto_reason(rule: Rule, values: dict[str, Any]) -> str:
    conds = ", ".join(f"{k}={v}" for k, v in rule.when) or "always"
    return f"{values['class']} @ {values['segment']}: {conds}"


# --------------------------------------------------------------------------- loading


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Read and validate a rules YAML file; None = the shipped ``rules_default.yaml``."""
    if path is None:
        return _default_rules()
    return _load(Path(path))


@lru_cache(maxsize=1)
def _default_rules() -> RuleSet:
    return _load(DEFAULT_RULES_PATH)


def _load(path: Path) -> RuleSet:
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        raise RulesError(str(path), [f"not valid YAML: {where}{getattr(exc, 'problem', exc)}"]) from None
    return rules_from_dict(data, source=str(path))


def rules_from_dict(data: Any, source: str = "<rules>") -> RuleSet:
    """Validate parsed YAML; every problem is collected, then one RulesError is raised."""
    errors: list[str] = []
    warnings: list[str] = []
    if not isinstance(data, dict):
        raise RulesError(source, [f"expected a mapping with version, settings, categories, rules; got "
                                  f"{type(data).__name__}"])
    for key in data:
        if key not in ("version", "settings", "categories", "rules"):
            errors.append(f"{key}: unknown top-level key (expected version, settings, categories, rules)")
    if data.get("version") != 1:
        errors.append(f"version: expected 1, got {data.get('version')!r}")

    settings = dict(_SETTINGS)
    raw_settings = data.get("settings") or {}
    if not isinstance(raw_settings, dict):
        errors.append("settings: expected a mapping")
        raw_settings = {}
    for key, value in raw_settings.items():
        if key not in _SETTINGS:
            errors.append(f"settings.{key}: unknown setting (expected {', '.join(_SETTINGS)})")
        elif key == "timezone":
            if not isinstance(value, str) or not _TZ.match(value):
                errors.append(f"settings.timezone: expected an offset like '+08:00', got {value!r}")
            else:
                settings[key] = value
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            errors.append(f"settings.{key}: expected a number >= 0, got {value!r}")
        else:
            settings[key] = float(value)

    categories: dict[str, Category] = {}
    raw_cats = data.get("categories")
    if not isinstance(raw_cats, dict) or not raw_cats:
        errors.append("categories: expected a mapping of category id -> {name_zh, severity, deadline_days}")
        raw_cats = {}
    for cid, c in raw_cats.items():
        where = f"categories.{cid}"
        if not isinstance(cid, str) or not _CAT_ID.match(cid):
            errors.append(f"{where}: id must be lower_snake_case")
            continue
        if not isinstance(c, dict):
            errors.append(f"{where}: expected a mapping with name_zh, severity, deadline_days")
            continue
        for k in c:
            if k not in _CATEGORY_KEYS:
                errors.append(f"{where}.{k}: unknown key (expected {', '.join(sorted(_CATEGORY_KEYS))})")
        name_zh, sev, days, name_en = c.get("name_zh"), c.get("severity"), c.get("deadline_days"), c.get("name_en")
        ok = True
        if not isinstance(name_zh, str) or not name_zh.strip():
            errors.append(f"{where}.name_zh: required, a non-empty string")
            ok = False
        if sev not in SEVERITIES:
            errors.append(f"{where}.severity: {sev!r} is not one of {', '.join(SEVERITIES)}")
            ok = False
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            errors.append(f"{where}.deadline_days: expected a whole number of days >= 0, got {days!r}")
            ok = False
        if name_en is not None and not isinstance(name_en, str):
            errors.append(f"{where}.name_en: expected a string")
        if ok:
            categories[cid] = Category(cid, name_zh.strip(), sev, days, name_en if isinstance(name_en, str) else None)

    rules: list[Rule] = []
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        errors.append("rules: expected a non-empty list of rules")
        raw_rules = []
    seen: dict[str, int] = {}
    for i, r in enumerate(raw_rules):
        rid = r.get("id") if isinstance(r, dict) else None
        if isinstance(rid, str) and rid in seen:
            errors.append(f"rules[{i}] (id {rid!r}): id: duplicate (also rules[{seen[rid]}])")
        elif isinstance(rid, str):
            seen[rid] = i
        rule = _parse_rule(i, r, raw_cats, errors, warnings)
        if rule is not None:
            rules.append(rule)
    if errors:
        raise RulesError(source, errors)
    _check_shadowing(rules, warnings)
    sign, hh, mm = _TZ.match(str(settings["timezone"])).groups()  # type: ignore[union-attr]
    offset = timedelta(hours=int(hh), minutes=int(mm)) * (1 if sign == "+" else -1)
    rs = RuleSet(categories, rules, float(settings["max_distance_m"]), float(settings["registered_tolerance_m"]),
                 timezone(offset), source, warnings)
    for w in warnings:
        log.warning("%s: %s", source, w)
    return rs


def _parse_rule(i: int, r: Any, cats: dict[str, Any], errors: list[str], warnings: list[str]) -> Rule | None:
    rid = r.get("id") if isinstance(r, dict) else None
    where = f"rules[{i}]" + (f" (id {rid!r})" if rid is not None else "")
    if not isinstance(r, dict):
        errors.append(f"{where}: expected a mapping with id, class, when, category, reason")
        return None
    n0 = len(errors)
    for k in r:
        if k not in _RULE_KEYS:
            hint = " (conditions go under 'when')" if k in CONDITIONS else ""
            errors.append(f"{where}.{k}: unknown key{hint} (expected {', '.join(sorted(_RULE_KEYS))})")
    if not isinstance(rid, str) or not _ID.match(rid):
        errors.append(f"{where}.id: required, letters/digits/_-. (got {rid!r})")

    cls = r.get("class")
    classes: tuple[str, ...] = ()
    if isinstance(cls, str) and cls.strip():
        classes = (cls.strip(),)
    elif isinstance(cls, list) and cls and all(isinstance(c, str) and c.strip() for c in cls):
        classes = tuple(c.strip() for c in cls)
    else:
        errors.append(f"{where}.class: required, a class name, a list of them, or \"*\" (got {cls!r})")
    for c in classes:
        if c != "*" and c not in KNOWN_CLASSES:
            warnings.append(f"{where}.class: {c!r} is not a class the shipped detectors know "
                            f"or edge events report ({', '.join(KNOWN_CLASSES)})")

    when_raw = r.get("when") or {}
    when: list[tuple[str, Any]] = []
    if not isinstance(when_raw, dict):
        errors.append(f"{where}.when: expected a mapping of condition -> value")
        when_raw = {}
    for name, value in when_raw.items():
        kind = CONDITIONS.get(name)
        if kind is None:
            errors.append(f"{where}.when.{name}: unknown condition (expected one of {', '.join(CONDITIONS)})")
            continue
        is_num = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if kind == "bool" and not isinstance(value, bool):
            errors.append(f"{where}.when.{name}: expected true or false, got {value!r}")
        elif kind == "number" and not (is_num and value >= 0):
            errors.append(f"{where}.when.{name}: expected a number >= 0, got {value!r}")
        elif kind == "bool_or_number" and not (isinstance(value, bool) or (is_num and value >= 0)):
            errors.append(f"{where}.when.{name}: expected true/false or a tolerance in metres, got {value!r}")
        else:
            when.append((name, value))

    if "category" not in r:
        errors.append(f"{where}.category: required (a category id, or null for no ticket)")
    category = r.get("category")
    if category is not None and category not in cats:
        errors.append(f"{where}.category: unknown category {category!r} (defined: {', '.join(map(str, cats))})")

    reason = r.get("reason")
    if reason is not None:
        if not isinstance(reason, str) or not reason.strip():
            errors.append(f"{where}.reason: expected a non-empty string")
            reason = None
        else:
            try:
                names = {fname.split(".")[0].split("[")[0] for _, fname, _, _ in string.Formatter().parse(reason)
                         if fname is not None}
            except ValueError as exc:
                errors.append(f"{where}.reason: bad template ({exc}); write {{{{ and }}}} for literal braces")
                names = set()
            for n in sorted(names):
                if n not in PLACEHOLDERS:
                    errors.append(f"{where}.reason: unknown placeholder {{{n}}} (known: {', '.join(PLACEHOLDERS)})")
    if len(errors) > n0:
        return None
    return Rule(rid, classes, tuple(when), category, reason, i)


def _check_shadowing(rules: list[Rule], warnings: list[str]) -> None:
    for j, later in enumerate(rules):
        for earlier in rules[:j]:
            if not earlier.when and ("*" in earlier.classes or
                                     ("*" not in later.classes and set(later.classes) <= set(earlier.classes))):
                warnings.append(f"rules[{later.index}] (id {later.id!r}) can never match: rules[{earlier.index}] "
                                f"(id {earlier.id!r}) has no conditions and matches its class first")
                break


def evaluate(find: Find, place: Place | None, when: datetime | None = None, rules: RuleSet | None = None) -> Decision:
    """Decide for one find with ``rules`` (default: the shipped table)."""
    return (rules or load_rules()).evaluate(find, place, when)
