"""The device's Presentation view, read from the patcher source: every box inside the device, no two boxes
overlapping, and every label's text fitting its box.

Live shows a device 169 px high and `devicewidth` wide, at the patcher's `presentation_rect`s (x, y, width,
height in pixels). Text is measured with the Helvetica-Bold metrics that ship with matplotlib: Arial was drawn
to Helvetica's character widths, so they give the width of the patcher's font (Arial Bold) too.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PATCHER = ROOT / "max_for_live" / "src" / "DittoBridge.maxpat"
DEVICE_HEIGHT = 169.0
TEXT_PADDING = 6.0
"""Pixels a comment needs beside its text (Max insets comment text from the box's edges)."""


def presentation_boxes(patcher: dict) -> list[dict]:
    return [entry["box"] for entry in patcher["boxes"] if entry["box"].get("presentation") == 1]


def overlap(a: list[float], b: list[float]) -> float:
    """The area two rectangles [x, y, width, height] share (0 when they only touch)."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(width, 0.0) * max(height, 0.0)


def overlapping_pairs(boxes: list[dict]) -> list[str]:
    return [
        f"{a['id']} {a['presentation_rect']} and {b['id']} {b['presentation_rect']}"
        for a, b in itertools.combinations(boxes, 2)
        if overlap(a["presentation_rect"], b["presentation_rect"]) > 0
    ]


@pytest.fixture(scope="module")
def patcher() -> dict:
    return json.loads(PATCHER.read_text(encoding="utf-8"))["patcher"]


def test_every_shown_box_lies_inside_the_device(patcher):
    width = float(patcher["devicewidth"])
    outside = [
        f"{box['id']} {box['presentation_rect']}"
        for box in presentation_boxes(patcher)
        if not (
            box["presentation_rect"][0] >= 0
            and box["presentation_rect"][1] >= 0
            and box["presentation_rect"][0] + box["presentation_rect"][2] <= width
            and box["presentation_rect"][1] + box["presentation_rect"][3] <= DEVICE_HEIGHT
        )
    ]
    assert outside == [], f"outside the {width:.0f} x {DEVICE_HEIGHT:.0f} px device: {outside}"


def test_no_two_shown_boxes_overlap(patcher):
    pairs = overlapping_pairs(presentation_boxes(patcher))
    assert pairs == [], "these presentation boxes overlap:\n" + "\n".join(pairs)


def test_the_overlap_check_sees_a_one_pixel_overlap_and_lets_touching_boxes_be():
    status = {"id": "status", "presentation_rect": [4.0, 135.0, 592.0, 15.0]}
    below = {"id": "below", "presentation_rect": [4.0, 149.0, 592.0, 15.0]}
    touching = {"id": "touching", "presentation_rect": [4.0, 150.0, 592.0, 15.0]}
    assert overlapping_pairs([status, below]) == [
        (f"status {status['presentation_rect']} and below {below['presentation_rect']}")
    ]
    assert overlapping_pairs([status, touching]) == []


def test_every_label_fits_its_box(patcher):
    from matplotlib import get_data_path
    from matplotlib._afm import AFM

    with open(Path(get_data_path()) / "fonts" / "pdfcorefonts" / "Helvetica-Bold.afm", "rb") as handle:
        metrics = AFM(handle)
    default_size = float(patcher["default_fontsize"])
    assert patcher["default_fontname"] == "Arial Bold"
    too_small = []
    for box in presentation_boxes(patcher):
        if box["maxclass"] != "comment":
            continue
        size = float(box.get("fontsize", default_size))
        text_width = metrics.get_str_bbox_and_descent(box.get("text", ""))[2] * size / 1000.0
        _x, _y, width, height = box["presentation_rect"]
        if text_width + TEXT_PADDING > width or height < size * 1.5:
            too_small.append(
                f"{box['id']} {box.get('text')!r}: {text_width:.0f} px of text in {width:.0f} x {height:.0f}"
            )
    assert too_small == [], "labels that do not fit their box:\n" + "\n".join(too_small)
