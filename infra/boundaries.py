"""Which jurisdiction a point lies in: point-in-polygon (shapely) over a GeoJSON boundary file
that the city can replace (`TUOYU_OPEN311_BOUNDARIES`; default the approximate placeholder in
`infra/data/boundaries/`, whose README states its source and accuracy)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from infra import reference

DEFAULT_FILE = reference.DATA_DIR / "boundaries" / "kaili-towns.geojson"


class BoundaryError(ValueError):
    """The boundary file cannot be used; the message names the feature."""


@dataclass(frozen=True)
class Boundaries:
    areas: tuple[tuple[str, BaseGeometry], ...]

    def town_at(self, lat: float, lon: float) -> str | None:
        """The first jurisdiction (in file order) whose polygon holds the point, or None."""
        if not (math.isfinite(lat) and math.isfinite(lon)):
            return None
        point = Point(lon, lat)  # GeoJSON order: longitude first
        return next((code for code, area in self.areas if area.covers(point)), None)


def parse(text: str, where: str = "boundaries") -> Boundaries:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise BoundaryError(f"{where}: not JSON ({exc})") from exc
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise BoundaryError(f"{where}: not a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list):
        raise BoundaryError(f"{where}: not a GeoJSON FeatureCollection (no features)")
    areas = []
    for number, feature in enumerate(features):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        code = properties.get("code") if isinstance(properties, dict) else None
        label = f"{where}: feature {number} ({code!r})"
        if not isinstance(code, str) or not reference.is_jurisdiction(code):
            raise BoundaryError(f"{label}: properties.code is not a town, street or zone code")
        try:
            area = shape(feature["geometry"])
        except (
            AttributeError,
            KeyError,
            TypeError,
            ValueError,
            shapely.errors.GEOSException,
        ) as exc:
            raise BoundaryError(f"{label}: geometry unreadable ({exc})") from exc
        if area.geom_type not in ("Polygon", "MultiPolygon") or not area.is_valid:
            raise BoundaryError(f"{label}: needs a valid Polygon or MultiPolygon")
        shapely.prepare(area)
        areas.append((code, area))
    return Boundaries(tuple(areas))


@cache
def load(path: Path | None = None) -> Boundaries:
    """Read once per process (restart the API after replacing the file)."""
    path = path or DEFAULT_FILE
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise BoundaryError(f"{path}: cannot read ({exc.strerror})") from exc
    return parse(text, str(path))
