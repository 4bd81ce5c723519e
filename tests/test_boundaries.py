"""The boundary file that maps an Open311 lat/long to a town (pure logic: no servers)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from infra import boundaries, reference
from infra.boundaries import BoundaryError


def collection(*features: dict[str, object]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def square(code: str, west: float, south: float, size: float = 1.0) -> dict[str, object]:
    ring = [[west, south], [west + size, south], [west + size, south + size], [west, south]]
    ring.insert(3, [west, south + size])
    return {
        "type": "Feature",
        "properties": {"code": code},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def test_the_shipped_file_covers_every_jurisdiction_once() -> None:
    shipped = boundaries.load()
    jurisdictions = {c for c, u in reference.units().items() if u.kind.is_jurisdiction}
    assert sorted(code for code, _ in shipped.areas) == sorted(jurisdictions)
    document = json.loads(boundaries.DEFAULT_FILE.read_text("utf-8"))
    assert "PLACEHOLDER" in document["source"]  # says what it is
    for feature in document["features"]:
        lon, lat = feature["properties"]["seat"]
        assert shipped.town_at(lat, lon) == feature["properties"]["code"]
    assert shipped.town_at(26.5668, 107.9808) == "street-dashizi"
    assert shipped.town_at(39.9042, 116.4074) is None  # Beijing
    assert shipped.town_at(math.nan, 107.98) is None


def test_a_replacement_file_is_read_and_checked(tmp_path: Path) -> None:
    own = tmp_path / "surveyed.geojson"
    # Overlapping squares: the first in the file wins.
    own.write_text(collection(square("town-zhouxi", 100, 20), square("town-bibo", 100.5, 20)))
    loaded = boundaries.load(own)
    assert loaded.town_at(20.5, 100.2) == "town-zhouxi"
    assert loaded.town_at(20.5, 100.7) == "town-zhouxi"
    assert loaded.town_at(20.5, 101.2) == "town-bibo"
    assert loaded.town_at(20.0, 100.2) == "town-zhouxi"  # on the border: covered


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("not json", "not JSON"),
        (json.dumps({"type": "Feature"}), "FeatureCollection"),
        (collection(square("health", 0, 0)), "feature 0 ('health')"),
        (collection(square("town-bibo", 0, 0), {"properties": {}}), "feature 1"),
        (
            collection(
                {
                    "type": "Feature",
                    "properties": {"code": "town-bibo"},
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]],
                    },
                }
            ),
            "valid Polygon",
        ),
        (
            collection(
                {
                    "type": "Feature",
                    "properties": {"code": "town-bibo"},
                    "geometry": {"type": "Point", "coordinates": [0, 0]},
                }
            ),
            "valid Polygon",
        ),
    ],
)
def test_a_broken_file_is_refused_with_the_feature_named(text: str, words: str) -> None:
    with pytest.raises(BoundaryError) as refused:
        boundaries.parse(text, "city.geojson")
    assert words in str(refused.value) and "city.geojson" in str(refused.value)
