#!/usr/bin/env python3
"""Draws the device's Presentation view from the patcher source, for docs/DEVICE.md.

Every box with ``presentation: 1`` in ``src/DittoBridge.maxpat`` is drawn at its ``presentation_rect``
(pixels, origin top left, as Live shows the device: 169 px high) with a look close to its Max object.

Usage: python3 tools/render_ui_diagram.py [--output ../docs/device_ui.svg]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import Circle, Rectangle

HERE = Path(__file__).resolve().parent.parent
SOURCE = HERE / "src" / "DittoBridge.maxpat"
OUTPUT = HERE.parent / "docs" / "device_ui.svg"
DEVICE_HEIGHT = 169.0

BG = "#2b2b2b"
PANEL = "#3d3d3d"
TEXT = "#e6e6e6"
ACCENT = "#f5a623"


def valueof(box: dict) -> dict:
    return box.get("saved_attribute_attributes", {}).get("valueof", {})


#: Live's unit styles (``parameter_unitstyle``) that the device's dials use, as Live writes them after a value.
UNITS = {4: "dB", 5: "%"}


def draw_box(ax, box: dict) -> None:
    x, y, w, h = box["presentation_rect"]
    cls = box["maxclass"]
    v = valueof(box)
    font = 6.5

    def rect(color=PANEL, edge="#5a5a5a"):
        ax.add_patch(Rectangle((x, y), w, h, facecolor=color, edgecolor=edge, linewidth=0.6))

    def text(s, color=TEXT, ha="left", dx=2.0, size=font, weight="normal"):
        tx = x + dx if ha == "left" else x + w / 2
        ax.text(tx, y + h / 2, s, color=color, fontsize=size, ha=ha, va="center", weight=weight)

    if cls == "comment":
        text(box.get("text", ""), color="#ff6b5b" if box.get("varname") == "error" else TEXT, dx=0.0)
    elif cls == "live.menu":
        rect()
        text(f"{v['parameter_enum'][int(v.get('parameter_initial', [0])[0])]}  ▾")
    elif cls == "live.tab":
        items = v["parameter_enum"]
        seg = w / len(items)
        initial = int(v.get("parameter_initial", [0])[0])
        for i, item in enumerate(items):
            ax.add_patch(Rectangle((x + i * seg, y), seg, h, facecolor=ACCENT if i == initial else PANEL,
                                   edgecolor="#5a5a5a", linewidth=0.6))
            ax.text(x + (i + 0.5) * seg, y + h / 2, item, color="#111" if i == initial else TEXT, fontsize=font,
                    ha="center", va="center")
    elif cls == "live.numbox":
        rect()
        text(f"{int(v.get('parameter_initial', [v.get('parameter_mmin', 0)])[0])}", ha="center")
    elif cls == "live.text":
        rect(ACCENT if box.get("text") == "Generate" else PANEL)
        text(box.get("text", ""), color="#111" if box.get("text") == "Generate" else TEXT, ha="center",
             weight="bold" if box.get("text") == "Generate" else "normal")
    elif cls == "live.dial":
        ax.add_patch(Circle((x + w / 2, y + h / 2 - 4), min(w, h) / 2 - 8, facecolor=PANEL, edgecolor=ACCENT,
                            linewidth=1.2))
        unit = UNITS.get(v.get("parameter_unitstyle"), "")
        ax.text(x + w / 2, y + h - 3, f"{v['parameter_shortname']} {v['parameter_initial'][0]:g} {unit}".rstrip(),
                color=TEXT, fontsize=font - 0.5, ha="center", va="center")
    elif cls == "textedit":
        rect("#1e1e1e")
        ax.text(x + 3, y + 7, "funk, drums, dusty", color="#9a9a9a", fontsize=font, ha="left", va="center",
                style="italic")
    elif cls == "function":
        rect("#1e1e1e")
        lo, hi = box.get("range", [-60.0, 0.0])
        domain = box.get("domain", 1.0)
        pts = box.get("addpoints", [])
        xs = [x + w * pts[i] / domain for i in range(0, len(pts), 3)]
        ys = [y + h - h * (pts[i + 1] - lo) / (hi - lo) for i in range(0, len(pts), 3)]
        ax.plot(xs, ys, color=ACCENT, linewidth=1.0)
        ax.plot(xs, ys, "o", color=ACCENT, markersize=2.5)
    elif cls == "multislider":
        rect("#1e1e1e")
        count = int(box.get("size", 1))
        lo, hi = box.get("setminmax", [0.0, 1.0])
        example = [1.0, 0.0, 0.5, 0.0, 0.8, 0.0, 0.5, 0.3]  # a beat, to show what the bars mean
        bar = w / count
        for i in range(count):
            value = lo + (hi - lo) * example[i % len(example)]
            height = h * (value - lo) / (hi - lo)
            ax.add_patch(Rectangle((x + i * bar + 0.5, y + h - height), bar - 1.0, height, facecolor=ACCENT,
                                   edgecolor="none"))
    elif cls == "led":
        ax.add_patch(Circle((x + w / 2, y + h / 2), w / 2 - 2, facecolor="#39d353", edgecolor="#5a5a5a"))
    elif cls == "slider":
        rect("#1e1e1e")
        ax.add_patch(Rectangle((x, y), w * 0.4, h, facecolor=ACCENT, edgecolor="none"))
    else:
        rect()
        text(cls)


def render(source: Path, output: Path) -> None:
    patcher = json.loads(source.read_text(encoding="utf-8"))["patcher"]
    width = float(patcher.get("devicewidth", 600.0))
    fig = plt.figure(figsize=(width / 72, DEVICE_HEIGHT / 72), dpi=72)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(DEVICE_HEIGHT, 0)
    ax.set_axis_off()
    ax.add_patch(Rectangle((0, 0), width, DEVICE_HEIGHT, facecolor=BG, edgecolor="none"))
    for entry in patcher["boxes"]:
        box = entry["box"]
        if box.get("presentation") == 1:
            draw_box(ax, box)
    output.parent.mkdir(parents=True, exist_ok=True)
    plt.rcParams["svg.fonttype"] = "none"
    plt.rcParams["svg.hashsalt"] = "ditto-bridge"  # stable ids: the same source gives the same file
    fig.savefig(output, facecolor=BG, metadata={"Date": None} if output.suffix == ".svg" else None)
    plt.close(fig)
    print(f"wrote {output}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    render(args.source, args.output)


if __name__ == "__main__":
    main()
