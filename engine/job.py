"""The engine's job: plain data in seconds, the one schema the CLI, the inbox and the daemon's worker share.

Every time is in seconds from the start of the generated clip; every level is in dB; pitches are MIDI note
numbers. Nothing here knows of beats, tempo or Live. `docs/JOB_SCHEMA.md` documents the JSON form and
`docs/job.schema.json` is its JSON Schema (``python -m engine.job --schema`` writes it).

The types are pydantic dataclasses: a field's type and bounds are its validation. Rules across fields run as
validators; those that need the clip's length (`fit_to`) run when the job is built. `Job.from_dict` validates
everything before any computation and raises `JobError` naming the offending field
(e.g. ``controls[1].db[3]: must be a finite number, got nan``).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from functools import reduce
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping

from pydantic import (AfterValidator, BeforeValidator, ConfigDict, Field, Strict, StringConstraints, TypeAdapter,
                      ValidationError, ValidationInfo, field_validator, model_validator)
from pydantic.dataclasses import dataclass

from engine.errors import JobError
from engine.models.schedulers import SCHEDULERS
from engine.validation import MAX_STRING, MISSING, Fields, join

CONTROL_TYPES = ("intensity", "melody", "structure", "rhythm", "inpaint", "outpaint", "loop")
QUALITIES = ("draft", "final")
RENDER_CHAIN = "render"
"""`optimize_through` value: optimize through the render sampler itself (the paper's full DITTO)."""
MAX_DURATION_S = 60.0
MAX_VARIATIONS = 16
MAX_ONSETS = 4096
MAX_STEPS = 256


class _Invalid(ValueError):
    """A rule broken at `where`: the keys and indices below the value a validator checked."""

    def __init__(self, where: tuple[str | int, ...], message: str, value: Any = MISSING):
        super().__init__(message)
        self.where, self.message, self.value = where, message, value


def _whole(value: Any) -> Any:
    """A float with no fraction (as JSON from JavaScript may give) -> the int it is."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _dbfs(level: float) -> float:
    if level > 0.0:
        raise _Invalid((), "lies above full scale: levels are dBFS, at most 0 dB", level)
    return level


def _audio_file(value: str, info: ValidationInfo) -> str:
    """The resolved path of an existing file; a relative one is taken from the context's `base_dir`."""
    path, base_dir = Path(value).expanduser(), (info.context or {}).get("base_dir")
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.is_file():
        raise _Invalid((), "no such audio file", str(path))
    return str(path.resolve())


Whole = BeforeValidator(_whole)
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]
"""A finite int or float: no booleans, no strings."""
Weight = Annotated[Number, Field(ge=0.0)]
Tolerance = Annotated[Number, Field(gt=0.0)]
Text = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=MAX_STRING, pattern=r"\S")]
AudioFile = Annotated[Text, AfterValidator(_audio_file)]
Flag = Annotated[bool, Strict()]


def _within_clip(value: float, duration: float, *where: str | int) -> None:
    if value < 0 or value > duration + 1e-6:
        raise _Invalid(where, f"lies outside the clip (0 to {duration:g} s)", value)


def _after(start: float, end: float, *where: str | int, what: str = "start") -> None:
    if end <= start:
        raise _Invalid(where, f"must be after {what} ({start:g} s)", end)


_CONFIG = ConfigDict(extra="forbid", use_attribute_docstrings=True)


@dataclass(frozen=True, config=_CONFIG)
class _JobPart:
    """What every part of a job shares: null means the default; an unknown key is named with the known ones."""

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        extra = sorted(str(key) for key in set(data) - {f.name for f in dataclasses.fields(cls)})
        if extra:
            known = sorted(TypeAdapter(cls).json_schema()["properties"])  # the JSON form's names
            raise _Invalid((extra[0],), f"is not a known field (known: {', '.join(known)})")
        return {key: value for key, value in data.items() if value is not None}


@dataclass(frozen=True)
class SamplerSpec(_JobPart):
    """A diffusers scheduler by name, with its number of steps and (DDIM only) eta."""

    name: Literal[SCHEDULERS] = "ddim"
    steps: Annotated[int, Strict(), Field(ge=1, le=1000), Whole] = 20
    eta: Annotated[Number, Field(ge=0.0, le=1.0)] = 0.0


@dataclass(frozen=True)
class OptimizerSpec(_JobPart):
    """Adam on x_T. `steps` (K) and `lr` left as None come from the job's quality preset (`engine/quality.py`);
    the paper's own setting is lr 5e-3, K = 70."""

    steps: Annotated[int, Strict(), Field(ge=0, le=2000), Whole] | None = None
    lr: Annotated[Number, Field(gt=0.0, le=10.0)] | None = None
    early_stop: Flag = True
    checkpointing: Flag = True
    memory_budget_mib: Annotated[Number, Field(gt=0.0)] | None = None
    """With checkpointing on: keep the activations of as many sampling steps as fit in this many MiB above the
    loaded model, and recompute only the rest (`engine/sampling/budget.py`). None: checkpoint every step."""


@dataclass(frozen=True)
class IntensityControl(_JobPart):
    """Loudness over time: breakpoints (seconds, dB of frame RMS, at most 0 dBFS), linearly interpolated, held at
    the ends. Levels outside the model's loudness range are asked of the music clamped into the range; with `gain`
    the rest is applied as a smooth gain on the written audio, without it the miss is reported."""

    times: Annotated[tuple[Number, ...], Field(min_length=1)]
    db: tuple[Annotated[Number, Field(ge=-120.0, json_schema_extra={"maximum": 0.0}), AfterValidator(_dbfs)], ...]
    weight: Weight = 1.0
    tolerance: Tolerance = 1.5
    """RMS error on the WAV, dB: a take within it measures at most 2.25 dB² (the paper's DITTO: 4.76 dB²)."""
    gain: Flag = True
    type: Literal["intensity"] = "intensity"

    def fit_to(self, duration: float) -> IntensityControl:
        if len(self.db) != len(self.times):
            raise _Invalid(("db",), f"must have as many entries as times ({len(self.times)})", len(self.db))
        for i, t in enumerate(self.times):
            _within_clip(t, duration, "times", i)
            if i and t < self.times[i - 1]:
                raise _Invalid(("times", i), "must not be earlier than the breakpoint before it", t)
        return self


@dataclass(frozen=True)
class MelodyNote(_JobPart):
    """One note of a monophonic melody: [start, end) in seconds and a MIDI pitch (its pitch class is the target)."""

    start: Number
    end: Number
    pitch: Annotated[int, Strict(), Field(ge=0, le=127), Whole]


@dataclass(frozen=True)
class MelodyControl(_JobPart):
    """A monophonic melody; frames covered by no note are left free."""

    notes: Annotated[tuple[MelodyNote, ...], Field(min_length=1)]
    weight: Weight = 1.0
    tolerance: Tolerance = 0.1
    """Error rate against the notes: the share of melody frames where chroma and the harmonic note salience do
    not both put the target pitch class first (`engine/controls/melody.py`). Calibrated on the transcriber the
    evaluation ships (basic-pitch), tune split, 8 default jobs: takes stopped at 0.1 were heard at a median of 85 %
    by it (mean 82 %); with chroma alone the same tolerance gave 71 % (mean 73 %)."""
    type: Literal["melody"] = "melody"

    def fit_to(self, duration: float) -> MelodyControl:
        """Notes start inside the clip; their ends are cut to it."""
        for i, note in enumerate(self.notes):
            _within_clip(note.start, duration, "notes", i, "start")
            _after(note.start, note.end, "notes", i, "end")
            if note.start >= duration:  # its end would be cut to its start
                raise _Invalid(("notes", i, "start"), f"must be before the clip's end ({duration:g} s)", note.start)
        cut = tuple(dataclasses.replace(note, end=min(note.end, duration)) for note in self.notes)
        return dataclasses.replace(self, notes=cut)


@dataclass(frozen=True)
class Section(_JobPart):
    """A labelled section [start, end) in seconds; equal labels should sound alike."""

    start: Number
    end: Number
    label: Text


@dataclass(frozen=True)
class StructureControl(_JobPart):
    """A form such as A B A: target self-similarity 1 within equal labels, 0 across."""

    sections: Annotated[tuple[Section, ...], Field(min_length=2)]
    weight: Weight = 1.0
    tolerance: Tolerance = 0.015
    """Mean square error of the output's self-similarity against the form. Tune split, 8 default jobs, measured on
    the WAV: 0.015 gave a median of 0.015 in a median of 37 s to WAV; 0.03 gave 0.027 in 36 s."""
    type: Literal["structure"] = "structure"

    def fit_to(self, duration: float) -> StructureControl:
        for i, section in enumerate(self.sections):
            _within_clip(section.start, duration, "sections", i, "start")
            _within_clip(section.end, duration, "sections", i, "end")
            _after(section.start, section.end, "sections", i, "end")
        return self


Accent = Annotated[Number, Field(ge=0.0, le=1.0)]
"""How strongly an onset is played, 0 to 1 (a MIDI velocity / 127)."""


@dataclass(frozen=True)
class RhythmGrid(_JobPart):
    """A step pattern repeated from `start` seconds to the clip's end. Step `i` of the grid falls at
    ``start + i * 60 / (tempo * steps_per_beat)`` seconds, and every second step is late by `swing` of a step."""

    tempo: Annotated[Number, Field(ge=20.0, le=999.0)]
    """Beats (quarter notes) per minute."""
    pattern: Annotated[tuple[Accent, ...], Field(min_length=1, max_length=MAX_STEPS)] | None = None
    """An accent per step, 0 for a rest; None: every beat, the first of each bar accented (1.0, the others 0.7)."""
    steps_per_beat: Annotated[int, Strict(), Field(ge=1, le=8), Whole] = 4
    beats_per_bar: Annotated[int, Strict(), Field(ge=1, le=32), Whole] = 4
    swing: Annotated[Number, Field(ge=0.0, le=0.75)] = 0.0
    """Delay of every second step as a share of a step: 0 straight, 1/3 a triplet shuffle."""
    start: Annotated[Number, Field(ge=0.0)] = 0.0

    def fit_to(self, duration: float) -> RhythmGrid:
        if self.start >= duration:
            raise _Invalid(("start",), f"must be before the clip's end ({duration:g} s)", self.start)
        if self.pattern is not None and not any(self.pattern):
            raise _Invalid(("pattern",), "has no step above 0: nothing would be played", list(self.pattern))
        return self


@dataclass(frozen=True)
class RhythmControl(_JobPart):
    """Onsets the music plays on: a list in seconds (`onsets`, with optional `accents`), a step `grid`, or the
    onsets of a `reference` audio file (found by the engine, accented by their strength, repeated when the file is
    shorter than the clip). Exactly one of the three."""

    onsets: Annotated[tuple[Number, ...], Field(min_length=1, max_length=MAX_ONSETS)] | None = None
    """Seconds from the clip's start, in increasing order, inside the clip."""
    accents: Annotated[tuple[Accent, ...], Field(max_length=MAX_ONSETS)] | None = None
    """One per onset; None: all 1."""
    grid: RhythmGrid | None = None
    reference: AudioFile | None = None
    window: Annotated[Number, Field(gt=0.0, le=0.2)] = 0.05
    """Seconds: an onset of the output this close to a target onset hits it."""
    weight: Weight = 1.0
    tolerance: Tolerance = 0.08
    """1 - onset F-measure at +-`window` on the engine's own onsets: 0.08 asks that F reach 0.92. On tune-split
    rhythm jobs, takes stopped there measured F 0.88-0.96 (median 0.91) with librosa's detector on the WAV; at
    0.2 they measured 0.68-0.91 (median 0.83)."""
    type: Literal["rhythm"] = "rhythm"

    def fit_to(self, duration: float) -> RhythmControl:
        given = [name for name in ("onsets", "grid", "reference") if getattr(self, name) is not None]
        if len(given) != 1:
            raise _Invalid(("onsets",), "give exactly one of onsets, grid or reference"
                           + (f" (got {', '.join(given)})" if given else ""))
        if self.accents is not None and (self.onsets is None or len(self.accents) != len(self.onsets)):
            count = len(self.onsets) if self.onsets is not None else 0
            raise _Invalid(("accents",), f"must have one entry per onset ({count})", len(self.accents))
        for i, t in enumerate(self.onsets or ()):
            if t < 0 or t >= duration:
                raise _Invalid(("onsets", i), f"lies outside the clip (0 to {duration:g} s)", t)
            if i and t <= self.onsets[i - 1]:
                raise _Invalid(("onsets", i), "must be later than the onset before it (sort the onsets; "
                               "merge equal ones)", t)
        if self.grid is not None:
            try:
                self.grid.fit_to(duration)
            except _Invalid as broken:
                raise _Invalid(("grid", *broken.where), broken.message, broken.value) from None
        return self


def _gap_in_schema(schema: dict[str, Any]) -> None:
    """The JSON form's ``"gap": [start, end]`` in place of the two fields it fills."""
    del schema["properties"]["gap_start"], schema["properties"]["gap_end"]
    schema["properties"]["gap"] = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2,
                                   "description": "[start, end] in seconds"}
    schema["required"] = ["reference", "gap"]


@dataclass(frozen=True, config=ConfigDict(**_CONFIG, json_schema_extra=_gap_in_schema))
class InpaintControl(_JobPart):
    """Keep `reference` outside the gap [gap_start, gap_end) seconds; generate inside it."""

    reference: AudioFile
    gap_start: Number
    gap_end: Number
    weight: Weight = 1.0
    tolerance: Tolerance = 0.05
    type: Literal["inpaint"] = "inpaint"

    @model_validator(mode="before")
    @classmethod
    def _gap(cls, data: Any) -> Any:
        """The JSON form's ``"gap": [start, end]`` -> `gap_start`, `gap_end`."""
        if not isinstance(data, Mapping):
            return data
        gap = data.get("gap", MISSING)
        if gap is MISSING or gap is None:
            raise _Invalid(("gap",), "is required")
        if not isinstance(gap, (list, tuple)) or len(gap) != 2:
            raise _Invalid(("gap",), "must be [start, end] in seconds", gap)
        return {**{k: v for k, v in data.items() if k != "gap"}, "gap_start": gap[0], "gap_end": gap[1]}

    def fit_to(self, duration: float) -> InpaintControl:
        _within_clip(self.gap_start, duration, "gap", 0)
        _within_clip(self.gap_end, duration, "gap", 1)
        _after(self.gap_start, self.gap_end, "gap", 1, what="the gap's start")
        return self


@dataclass(frozen=True)
class OutpaintControl(_JobPart):
    """Continue `reference`: its last `overlap` seconds become the first `overlap` seconds of the output."""

    reference: AudioFile
    overlap: Annotated[Number, Field(gt=0.0)]
    weight: Weight = 1.0
    tolerance: Tolerance = 0.05
    type: Literal["outpaint"] = "outpaint"

    def fit_to(self, duration: float) -> OutpaintControl:
        if self.overlap >= duration:
            raise _Invalid(("overlap",), f"must be shorter than the clip ({duration:g} s)", self.overlap)
        return self


@dataclass(frozen=True)
class LoopControl(_JobPart):
    """Make the clip loop: its last `overlap` seconds match its first, so the end flows into the start.

    With a `reference`, the output instead starts with the reference's last `overlap` seconds and ends with its
    first `overlap` seconds: a bridge that leads out of the reference and back into it.
    The seamless loop is the output minus its last `overlap` seconds.
    """

    overlap: Annotated[Number, Field(gt=0.0)]
    reference: AudioFile | None = None
    weight: Weight = 1.0
    tolerance: Tolerance = 0.05
    type: Literal["loop"] = "loop"

    def fit_to(self, duration: float) -> LoopControl:
        if self.overlap > duration / 2:
            raise _Invalid(("overlap",), f"must be at most half the clip ({duration / 2:g} s)", self.overlap)
        return self


Control = Annotated[IntensityControl | MelodyControl | StructureControl | RhythmControl | InpaintControl
                    | OutpaintControl | LoopControl, Field(discriminator="type")]


def _tag_list(tags: Any) -> Any:
    """A list of tags or one comma-separated string -> the tags stripped and lower-cased."""
    if isinstance(tags, str):
        tags = [tag for tag in tags.split(",") if tag.strip()]
    if not isinstance(tags, (list, tuple)) or not all(isinstance(tag, str) for tag in tags):
        raise _Invalid((), "must be a list of strings", tags)
    return tuple(tag.strip().lower() for tag in tags)


@dataclass(frozen=True)
class Job(_JobPart):
    """One generation request, in seconds. Defaults give a 6-second, 70-step DITTO run on the built-in model."""

    name: Text = "take"
    duration: Annotated[Number, Field(gt=0.0, le=MAX_DURATION_S)] = 5.94
    controls: tuple[Control, ...] = ()
    tags: Annotated[tuple[str, ...], BeforeValidator(_tag_list, json_schema_input_type=list[str] | str)] = ()
    prompt: Text | None = None
    model: Text = "builtin"
    guidance_scale: Annotated[Number, Field(ge=0.0, le=30.0)] = 2.0
    seed: Annotated[int, Strict(), Field(ge=0, le=2**31 - 1), Whole] = 0
    variations: Annotated[int, Strict(), Field(ge=1, le=MAX_VARIATIONS), Whole] = 1
    quality: Literal[QUALITIES] = "final"
    sampler: SamplerSpec | None = None
    """The render sampler; None: the quality preset's (`engine/quality.py`)."""
    optimize_through: SamplerSpec | Literal["render"] | None = None
    optimizer: OptimizerSpec = dataclasses.field(default_factory=OptimizerSpec)
    warm_start: Text | None = None

    @field_validator("optimize_through", mode="before")
    @classmethod
    def _render_or_sampler(cls, value: Any) -> Any:
        if isinstance(value, str) and value != RENDER_CHAIN:
            raise _Invalid((), f"must be {RENDER_CHAIN!r} or a sampler object", value)
        return value

    @field_validator("controls")
    @classmethod
    def _fit_to_clip(cls, controls: tuple[Control, ...], info: ValidationInfo) -> tuple[Control, ...]:
        if "duration" not in info.data:  # the duration's own error is the one reported
            return controls
        fitted = []
        for i, control in enumerate(controls):
            try:
                fitted.append(control.fit_to(info.data["duration"]))
            except _Invalid as broken:
                raise _Invalid((i, *broken.where), broken.message, broken.value) from None
        return tuple(fitted)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, base_dir: Path | None = None) -> Job:
        """Validate a JSON-like mapping; relative reference paths resolve against `base_dir`."""
        try:
            return _JOB.validate_python(data, context={"base_dir": base_dir})
        except ValidationError as error:
            raise _job_error(error) from None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (what `from_dict` reads back)."""
        out = dataclasses.asdict(self)
        out["controls"] = [_control_to_dict(c) for c in self.controls]
        return out


def _control_to_dict(control: Control) -> dict[str, Any]:
    data = dataclasses.asdict(control)
    if isinstance(control, IntensityControl):
        data["times"], data["db"] = list(control.times), list(control.db)
    if isinstance(control, RhythmControl):
        data = {key: value for key, value in data.items() if value is not None}
    if isinstance(control, InpaintControl):
        data["gap"] = [data.pop("gap_start"), data.pop("gap_end")]
    return data


_JOB = TypeAdapter(Job)
_FIELDS = Fields(JobError)
_UNION_TAGS = {*CONTROL_TYPES, "SamplerSpec"}
"""What pydantic puts in an error's location to say which member of a union it tried; not a field."""
_JSON_LOCATIONS = {"gap_start": ("gap", 0), "gap_end": ("gap", 1)}
_WORDS = {
    "missing": "is required", "float_type": "must be a number", "finite_number": "must be a finite number",
    "int_type": "must be an integer", "bool_type": "must be true or false", "string_type": "must be a non-empty string",
    "string_too_short": "must be a non-empty string", "string_pattern_mismatch": "must be a non-empty string",
    "string_too_long": "is too long (at most {max_length} characters)", "tuple_type": "must be a list",
    "greater_than": "must be a number greater than {gt}", "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}", "literal_error": "must be one of {expected}",
    "dataclass_type": "must be an object", "model_attributes_type": "must be an object",
}
_TOO_SHORT = {"times": "needs at least one breakpoint", "notes": "needs at least one note",
              "sections": "needs at least two sections", "onsets": "needs at least one onset",
              "pattern": "needs at least one step"}


def _job_error(error: ValidationError) -> JobError:
    """pydantic's first error in the job's words: the field as a path (``controls[0].db[3]``), the rule, the value."""
    first = error.errors(include_url=False)[0]
    kind, ctx, value = first["type"], first.get("ctx", {}), first["input"]
    words = {key: f"{v:g}" if isinstance(v, float) else str(v).replace("'", "").replace(" or ", ", ")
             for key, v in ctx.items()}  # 60.0 -> 60; "'draft' or 'final'" -> draft, final
    loc = [key for part in first["loc"] if part not in _UNION_TAGS for key in _JSON_LOCATIONS.get(part, (part,))]
    if isinstance(ctx.get("error"), _Invalid):
        cause = ctx["error"]
        loc, message, value = [*loc, *cause.where], cause.message, cause.value
    elif kind.startswith("union_tag"):
        loc, message = [*loc, "type"], f"must be one of {', '.join(CONTROL_TYPES)}"
        value = value.get("type") if isinstance(value, Mapping) else value
    elif kind == "too_long":
        message, value = f"has too many entries (at most {ctx['max_length']})", ctx["actual_length"]
    elif kind == "too_short":
        message, value = _TOO_SHORT.get(loc[-1], "has too few entries"), ctx["actual_length"]
    elif kind == "float_type" and isinstance(value, int) and not isinstance(value, bool):
        message = "must be a finite number (this integer is too large)"
    elif kind in _WORDS:
        message = _WORDS[kind].format(**words)
    else:
        message = first["msg"]
    return _FIELDS.fail(reduce(join, loc, "") or "job", message, MISSING if kind == "missing" else value)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a job's JSON form (`docs/job.schema.json`)."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **_JOB.json_schema()}


if __name__ == "__main__":
    if sys.argv[1:] != ["--schema"]:
        sys.exit("usage: python -m engine.job --schema > docs/job.schema.json")
    print(json.dumps(json_schema(), indent=2))
