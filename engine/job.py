"""The engine's job: plain data in seconds, the one schema the CLI, the inbox and the daemon's worker share.

Every time is in seconds from the start of the generated clip; every level is in dB; pitches are MIDI note
numbers. Nothing here knows of beats, tempo or Live. `docs/JOB_SCHEMA.md` documents the JSON form.

`Job.from_dict` validates everything before any computation and raises `JobError` naming the offending field
(e.g. ``controls[1].db[3]: must be a finite number, got nan``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from engine.errors import JobError
from engine.models.schedulers import SCHEDULERS
from engine.validation import MISSING, Fields

_F = Fields(JobError)
CONTROL_TYPES = ("intensity", "melody", "structure", "inpaint", "outpaint", "loop")
QUALITIES = ("draft", "final")
RENDER_CHAIN = "render"
"""`optimize_through` value: optimize through the render sampler itself (the paper's full DITTO)."""
MAX_DURATION_S = 60.0
MAX_VARIATIONS = 16


@dataclass(frozen=True)
class SamplerSpec:
    """A diffusers scheduler by name, with its number of steps and (DDIM only) eta."""

    name: str = "ddim"
    steps: int = 20
    eta: float = 0.0


@dataclass(frozen=True)
class OptimizerSpec:
    """Adam on x_T. `steps` (K) and `lr` left as None come from the job's quality preset (`engine/quality.py`);
    the paper's own setting is lr 5e-3, K = 70."""

    steps: int | None = None
    lr: float | None = None
    early_stop: bool = True
    checkpointing: bool = True
    memory_budget_mib: float | None = None
    """With checkpointing on: keep the activations of as many sampling steps as fit in this many MiB above the
    loaded model, and recompute only the rest (`engine/sampling/budget.py`). None: checkpoint every step."""


@dataclass(frozen=True)
class IntensityControl:
    """Loudness over time: breakpoints (seconds, dB of frame RMS, at most 0 dBFS), linearly interpolated, held at
    the ends. Levels outside the model's loudness range are asked of the music clamped into the range; with `gain`
    the rest is applied as a smooth gain on the written audio, without it the miss is reported."""

    times: tuple[float, ...]
    db: tuple[float, ...]
    weight: float = 1.0
    tolerance: float = 1.5
    """RMS error on the WAV, dB: a take within it measures at most 2.25 dB² (the paper's DITTO: 4.76 dB²)."""
    gain: bool = True
    type: str = "intensity"


@dataclass(frozen=True)
class MelodyNote:
    """One note of a monophonic melody: [start, end) in seconds and a MIDI pitch (its pitch class is the target)."""

    start: float
    end: float
    pitch: int


@dataclass(frozen=True)
class MelodyControl:
    """A monophonic melody; frames covered by no note are left free."""

    notes: tuple[MelodyNote, ...]
    weight: float = 1.0
    tolerance: float = 0.1
    """Error rate of the output's chroma against the notes. Calibrated on the transcriber the evaluation ships
    (basic-pitch): on tune-split jobs, takes stopped at 0.2 (80 % chroma) were heard at 58-68 % by it."""
    type: str = "melody"


@dataclass(frozen=True)
class Section:
    """A labelled section [start, end) in seconds; equal labels should sound alike."""

    start: float
    end: float
    label: str


@dataclass(frozen=True)
class StructureControl:
    """A form such as A B A: target self-similarity 1 within equal labels, 0 across."""

    sections: tuple[Section, ...]
    weight: float = 1.0
    tolerance: float = 0.03
    type: str = "structure"


@dataclass(frozen=True)
class InpaintControl:
    """Keep `reference` outside the gap [gap_start, gap_end) seconds; generate inside it."""

    reference: str
    gap_start: float
    gap_end: float
    weight: float = 1.0
    tolerance: float = 0.05
    type: str = "inpaint"


@dataclass(frozen=True)
class OutpaintControl:
    """Continue `reference`: its last `overlap` seconds become the first `overlap` seconds of the output."""

    reference: str
    overlap: float
    weight: float = 1.0
    tolerance: float = 0.05
    type: str = "outpaint"


@dataclass(frozen=True)
class LoopControl:
    """Make the clip loop: its last `overlap` seconds match its first, so the end flows into the start.

    With a `reference`, the output instead starts with the reference's last `overlap` seconds and ends with its
    first `overlap` seconds: a bridge that leads out of the reference and back into it.
    The seamless loop is the output minus its last `overlap` seconds.
    """

    overlap: float
    reference: str | None = None
    weight: float = 1.0
    tolerance: float = 0.05
    type: str = "loop"


Control = IntensityControl | MelodyControl | StructureControl | InpaintControl | OutpaintControl | LoopControl


@dataclass(frozen=True)
class Job:
    """One generation request, in seconds. Defaults give a 6-second, 70-step DITTO run on the built-in model."""

    name: str = "take"
    duration: float = 5.94
    controls: tuple[Control, ...] = ()
    tags: tuple[str, ...] = ()
    prompt: str | None = None
    model: str = "builtin"
    guidance_scale: float = 2.0
    seed: int = 0
    variations: int = 1
    quality: str = "final"
    sampler: SamplerSpec | None = None
    """The render sampler; None: the quality preset's (`engine/quality.py`)."""
    optimize_through: SamplerSpec | str | None = None
    optimizer: OptimizerSpec = field(default_factory=OptimizerSpec)
    warm_start: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, base_dir: Path | None = None) -> "Job":
        """Validate a JSON-like mapping; relative reference paths resolve against `base_dir`."""
        return _parse_job(data, base_dir)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (what `from_dict` reads back)."""
        out = dataclasses.asdict(self)
        out["controls"] = [_control_to_dict(c) for c in self.controls]
        return out


def _control_to_dict(control: Control) -> dict[str, Any]:
    data = dataclasses.asdict(control)
    if isinstance(control, IntensityControl):
        data["times"], data["db"] = list(control.times), list(control.db)
    if isinstance(control, InpaintControl):
        data["gap"] = [data.pop("gap_start"), data.pop("gap_end")]
    return data


# ---------------------------------------------------------------------------------------------------- validation


def _reference(data: Mapping[str, Any], path: str, base_dir: Path | None, *, required: bool) -> str | None:
    value = _F.get_string(data, "reference", path, MISSING if required else None)
    if value is None:
        return None
    ref = Path(value).expanduser()
    if not ref.is_absolute() and base_dir is not None:
        ref = base_dir / ref
    if not ref.is_file():
        raise _F.fail(f"{path}.reference", "no such audio file", str(ref))
    return str(ref.resolve())


def _within_clip(value: float, duration: float, where: str) -> None:
    if value < 0 or value > duration + 1e-6:
        raise _F.fail(where, f"lies outside the clip (0 to {duration:g} s)", value)


def _parse_intensity(data: Mapping[str, Any], path: str, duration: float) -> IntensityControl:
    _F.unknown_keys(data, {"type", "times", "db", "weight", "tolerance", "gain"}, path)
    times = [_F.number(v, f"{path}.times[{i}]") for i, v in enumerate(_F.get_list(data, "times", path))]
    db = [_F.number(v, f"{path}.db[{i}]", minimum=-120.0) for i, v in enumerate(_F.get_list(data, "db", path))]
    for i, level in enumerate(db):
        if level > 0.0:
            raise _F.fail(f"{path}.db[{i}]", "lies above full scale: levels are dBFS, at most 0 dB", level)
    if "gain" in data and not isinstance(data["gain"], bool):
        raise _F.fail(f"{path}.gain", "must be true or false", data["gain"])
    if not times:
        raise _F.fail(f"{path}.times", "needs at least one breakpoint")
    if len(times) != len(db):
        raise _F.fail(f"{path}.db", f"must have as many entries as times ({len(times)})", len(db))
    for i, t in enumerate(times):
        _within_clip(t, duration, f"{path}.times[{i}]")
        if i and t < times[i - 1]:
            raise _F.fail(f"{path}.times[{i}]", "must not be earlier than the breakpoint before it", t)
    return IntensityControl(tuple(times), tuple(db), weight=_F.get_number(data, "weight", path, 1.0, minimum=0.0),
                            tolerance=_F.get_number(data, "tolerance", path, IntensityControl.tolerance,
                                                    positive=True),
                            gain=data.get("gain", True))


def _parse_melody(data: Mapping[str, Any], path: str, duration: float) -> MelodyControl:
    _F.unknown_keys(data, {"type", "notes", "weight", "tolerance"}, path)
    notes = []
    for i, raw in enumerate(_F.get_list(data, "notes", path)):
        where = f"{path}.notes[{i}]"
        raw = _F.mapping(raw, where)
        start = _F.get_number(raw, "start", where)
        end = _F.get_number(raw, "end", where)
        _within_clip(start, duration, f"{where}.start")
        if end <= start:
            raise _F.fail(f"{where}.end", f"must be after start ({start:g} s)", end)
        pitch = _F.get_integer(raw, "pitch", where, -1, minimum=0, maximum=127)
        notes.append(MelodyNote(start, min(end, duration), pitch))
    if not notes:
        raise _F.fail(f"{path}.notes", "needs at least one note")
    return MelodyControl(tuple(notes), weight=_F.get_number(data, "weight", path, 1.0, minimum=0.0),
                         tolerance=_F.get_number(data, "tolerance", path, MelodyControl.tolerance, positive=True))


def _parse_structure(data: Mapping[str, Any], path: str, duration: float) -> StructureControl:
    _F.unknown_keys(data, {"type", "sections", "weight", "tolerance"}, path)
    sections = []
    for i, raw in enumerate(_F.get_list(data, "sections", path)):
        where = f"{path}.sections[{i}]"
        raw = _F.mapping(raw, where)
        start, end = _F.get_number(raw, "start", where), _F.get_number(raw, "end", where)
        _within_clip(start, duration, f"{where}.start")
        _within_clip(end, duration, f"{where}.end")
        if end <= start:
            raise _F.fail(f"{where}.end", f"must be after start ({start:g} s)", end)
        sections.append(Section(start, end, _F.get_string(raw, "label", where)))
    if len(sections) < 2:
        raise _F.fail(f"{path}.sections", "needs at least two sections", len(sections))
    return StructureControl(tuple(sections), weight=_F.get_number(data, "weight", path, 1.0, minimum=0.0),
                            tolerance=_F.get_number(data, "tolerance", path, StructureControl.tolerance,
                                                     positive=True))


def _parse_inpaint(data: Mapping[str, Any], path: str, duration: float, base_dir: Path | None) -> InpaintControl:
    _F.unknown_keys(data, {"type", "reference", "gap", "weight", "tolerance"}, path)
    gap = _F.get_list(data, "gap", path)
    if len(gap) != 2:
        raise _F.fail(f"{path}.gap", "must be [start, end] in seconds", gap)
    start, end = (_F.number(v, f"{path}.gap[{i}]") for i, v in enumerate(gap))
    _within_clip(start, duration, f"{path}.gap[0]")
    _within_clip(end, duration, f"{path}.gap[1]")
    if end <= start:
        raise _F.fail(f"{path}.gap[1]", f"must be after the gap's start ({start:g} s)", end)
    return InpaintControl(_reference(data, path, base_dir, required=True), start, end,
                          weight=_F.get_number(data, "weight", path, 1.0, minimum=0.0),
                          tolerance=_F.get_number(data, "tolerance", path, InpaintControl.tolerance, positive=True))


def _parse_outpaint(data: Mapping[str, Any], path: str, duration: float, base_dir: Path | None) -> OutpaintControl:
    _F.unknown_keys(data, {"type", "reference", "overlap", "weight", "tolerance"}, path)
    overlap = _F.get_number(data, "overlap", path, positive=True)
    if overlap >= duration:
        raise _F.fail(f"{path}.overlap", f"must be shorter than the clip ({duration:g} s)", overlap)
    return OutpaintControl(_reference(data, path, base_dir, required=True), overlap,
                           weight=_F.get_number(data, "weight", path, 1.0, minimum=0.0),
                           tolerance=_F.get_number(data, "tolerance", path, OutpaintControl.tolerance, positive=True))


def _parse_loop(data: Mapping[str, Any], path: str, duration: float, base_dir: Path | None) -> LoopControl:
    _F.unknown_keys(data, {"type", "reference", "overlap", "weight", "tolerance"}, path)
    overlap = _F.get_number(data, "overlap", path, positive=True)
    if overlap > duration / 2:
        raise _F.fail(f"{path}.overlap", f"must be at most half the clip ({duration / 2:g} s)", overlap)
    return LoopControl(overlap, _reference(data, path, base_dir, required=False),
                       weight=_F.get_number(data, "weight", path, 1.0, minimum=0.0),
                       tolerance=_F.get_number(data, "tolerance", path, LoopControl.tolerance, positive=True))


def _parse_control(raw: Any, path: str, duration: float, base_dir: Path | None) -> Control:
    data = _F.mapping(raw, path)
    kind = data.get("type")
    if kind not in CONTROL_TYPES:
        raise _F.fail(f"{path}.type", f"must be one of {', '.join(CONTROL_TYPES)}", kind)
    if kind == "intensity":
        return _parse_intensity(data, path, duration)
    if kind == "melody":
        return _parse_melody(data, path, duration)
    if kind == "structure":
        return _parse_structure(data, path, duration)
    if kind == "inpaint":
        return _parse_inpaint(data, path, duration, base_dir)
    if kind == "outpaint":
        return _parse_outpaint(data, path, duration, base_dir)
    return _parse_loop(data, path, duration, base_dir)


def _parse_sampler(raw: Any, path: str) -> SamplerSpec:
    data = _F.mapping(raw, path)
    _F.unknown_keys(data, {"name", "steps", "eta"}, path)
    name = data.get("name", "ddim")
    if name not in SCHEDULERS:
        raise _F.fail(f"{path}.name", f"must be one of {', '.join(SCHEDULERS)}", name)
    return SamplerSpec(name, _F.get_integer(data, "steps", path, 20, minimum=1, maximum=1000),
                       _F.get_number(data, "eta", path, 0.0, minimum=0.0, maximum=1.0))


def _parse_optimizer(raw: Any, path: str) -> OptimizerSpec:
    data = _F.mapping(raw, path)
    _F.unknown_keys(data, {"steps", "lr", "early_stop", "checkpointing", "memory_budget_mib"}, path)
    for key in ("early_stop", "checkpointing"):
        if key in data and not isinstance(data[key], bool):
            raise _F.fail(f"{path}.{key}", "must be true or false", data[key])
    return OptimizerSpec(_F.get_integer(data, "steps", path, None, minimum=0, maximum=2000),
                         _F.get_number(data, "lr", path, None, positive=True, maximum=10.0),
                         data.get("early_stop", True), data.get("checkpointing", True),
                         _F.get_number(data, "memory_budget_mib", path, None, positive=True))


def _parse_optimize_through(raw: Any) -> SamplerSpec | str | None:
    if raw is None or raw == RENDER_CHAIN:
        return raw
    if isinstance(raw, str):
        raise _F.fail("optimize_through", f"must be {RENDER_CHAIN!r} or a sampler object", raw)
    return _parse_sampler(raw, "optimize_through")


_JOB_KEYS = {"name", "duration", "controls", "tags", "prompt", "model", "guidance_scale", "seed", "variations",
             "quality", "sampler", "optimize_through", "optimizer", "warm_start"}


def _parse_job(raw: Mapping[str, Any], base_dir: Path | None) -> Job:
    data = _F.mapping(raw, "job")
    _F.unknown_keys(data, _JOB_KEYS, "")
    duration = _F.get_number(data, "duration", "", 5.94, positive=True, maximum=MAX_DURATION_S)
    controls_raw = data.get("controls", [])
    if not isinstance(controls_raw, (list, tuple)):
        raise _F.fail("controls", "must be a list", controls_raw)
    controls = tuple(_parse_control(c, f"controls[{i}]", duration, base_dir) for i, c in enumerate(controls_raw))
    tags_raw = data.get("tags", [])
    if isinstance(tags_raw, str):
        tags_raw = [t.strip() for t in tags_raw.split(",") if t.strip()]
    if not isinstance(tags_raw, (list, tuple)) or not all(isinstance(t, str) for t in tags_raw):
        raise _F.fail("tags", "must be a list of strings", tags_raw)
    quality = data.get("quality", "final")
    if quality not in QUALITIES:
        raise _F.fail("quality", f"must be one of {', '.join(QUALITIES)}", quality)
    return Job(
        name=_F.get_string(data, "name", "", "take"),
        duration=duration,
        controls=controls,
        tags=tuple(t.strip().lower() for t in tags_raw),
        prompt=_F.get_string(data, "prompt", "", None),
        model=_F.get_string(data, "model", "", "builtin"),
        guidance_scale=_F.get_number(data, "guidance_scale", "", 2.0, minimum=0.0, maximum=30.0),
        seed=_F.get_integer(data, "seed", "", 0, minimum=0, maximum=2**31 - 1),
        variations=_F.get_integer(data, "variations", "", 1, minimum=1, maximum=MAX_VARIATIONS),
        quality=quality,
        sampler=None if data.get("sampler") is None else _parse_sampler(data["sampler"], "sampler"),
        optimize_through=_parse_optimize_through(data.get("optimize_through")),
        optimizer=_parse_optimizer(data.get("optimizer", {}), "optimizer"),
        warm_start=_F.get_string(data, "warm_start", "", None),
    )
