"""A job in Live units (`docs/PROTOCOL.md`) -> the engine's seconds-based job (`engine.job.Job`).

`translate_request` accepts either form: a job in Live units (it has a ``song`` object) or an engine job in
seconds (as `ditto-bridge generate` reads). It validates everything, plans the stretches of clip audio the task
needs as reference WAVs (it writes nothing: the worker renders them just before the job runs), checks the result
with `engine.job.Job.from_dict`, and returns the engine job's JSON with the outbox settings (the set's sample rate
and channels, the take name, where the result belongs) and the reference windows to render.

Time origins, per task (beats are the clip's own for clip tasks, the song's otherwise):

* ``generate``, ``melody``, ``rhythm``: output 0 s is ``range.start`` (0 without a range); notes, drum notes and
  intensity breakpoints are relative to it.
* ``structure``: locators are song positions; output 0 s is ``range.start``.
* ``inpaint``: the gap is ``range`` (default: the clip's loop brace), centred in a window of ``length_bars``
  cut from the clip and kept inside the audio file.
* ``continue``: output 0 s is ``range.end - overlap_beats`` (range default: the clip's start and end markers,
  so the clip is continued after its end); the first ``overlap`` seconds repeat the clip's end.
* ``loop``: with clip audio, a bridge of ``length_bars`` from the end of ``range`` back into its start, starting
  at ``range.end - overlap``. Without audio (a MIDI clip or none), a new loop of ``length_bars`` that loops
  seamlessly; it is rendered one overlap longer and the WAV is cut to whole bars.

A ``rhythm`` object (`ditto_bridge.translate.rhythm`) is required by the task ``rhythm`` and may ride along with
``generate``, ``melody`` and ``structure``: its control follows the task's own. A drum clip's audio is planned as a
reference window from its ``rhythm.range`` (default: its loop brace), on the drum clip's own axis.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ditto_bridge.errors import RequestError
from ditto_bridge.translate import fields
from ditto_bridge.translate.envelopes import (DB_MAX_DB, DB_MIN_DB, NORMALIZED_MAX_DB, NORMALIZED_MIN_DB,
                                              breakpoints_to_curve)
from ditto_bridge.translate.notes import melody_control, melody_segments, notes_from_live, notes_from_midi_file
from ditto_bridge.translate.references import ClipAudio, ReferenceWindow, checked_file
from ditto_bridge.translate.rhythm import parse_rhythm, reference_window, rhythm_control
from ditto_bridge.translate.sections import cue_points_from_live, sections_from_cues, structure_control
from ditto_bridge.translate.time import SongTime, snap_bars
from ditto_bridge.translate.warp import WarpMap
from engine.errors import JobError
from engine.job import Job

TASKS = ("generate", "inpaint", "continue", "loop", "melody", "structure", "rhythm")
CLIP_TASKS = ("inpaint", "continue", "loop")
RHYTHM_TASKS = ("rhythm", "generate", "melody", "structure")
"""Tasks whose job may carry a ``rhythm`` object (the task ``rhythm`` needs one)."""
QUALITIES = ("draft", "final")
MAX_LENGTH_BARS = 64
SAMPLE_RATES = (22050, 32000, 44100, 48000, 88200, 96000, 176400, 192000)
ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
DEFAULT_SAMPLE_RATE = 44100
DEFAULT_CHANNELS = 2
EPS = 1e-9

_TOP_KEYS = {"id", "task", "name", "tags", "prompt", "model", "song", "length_bars", "quality", "steps",
             "sampler_steps", "seed", "variations", "clip", "range", "intensity", "notes", "midi_file",
             "cue_points", "overlap_beats", "device", "lineage", "rhythm"}
_ENGINE_KEYS = {"name", "duration", "controls", "tags", "prompt", "model", "guidance_scale", "seed", "variations",
                "quality", "sampler", "optimize_through", "optimizer", "warm_start"}
_BRIDGE_KEYS = {"lineage"}
"""Fields the bridge also takes in a job in seconds and keeps for itself (they never reach the engine)."""


@dataclass(frozen=True)
class TranslateContext:
    """What translation needs from the daemon: defaults and the folders it may read and write."""

    model: str
    audio_roots: tuple[Path, ...]
    """Folders clip audio, references and MIDI files may come from (the inbox is always one)."""
    inbox: Path
    reference_dir: Path
    """Where the worker renders reference windows (one file per job and reference)."""
    sample_rate: int = DEFAULT_SAMPLE_RATE
    channels: int = DEFAULT_CHANNELS


@dataclass(frozen=True)
class OutputSpec:
    """What the worker writes for a job: the reference windows before it runs; after, its takes (name, task, the
    set's sample rate and channel count)."""

    name: str
    task: str
    sample_rate: int
    channels: int
    keep_seconds: float | None = None
    """Cut each take to its first `keep_seconds` (a seamless loop drops its overlap tail); None keeps all."""
    placement: dict[str, Any] = field(default_factory=dict)
    """Where the result belongs in the set: ``{axis, start, length_beats, tempo}``; copied into the sidecar."""
    device: dict[str, Any] | None = None
    """The request's opaque ``device`` object, echoed in the sidecar."""
    lineage: str | None = None
    """The idea this job tweaks (`ditto_bridge.lineage`): it warm-starts from the lineage's latest x_T*."""
    renders: tuple[dict[str, Any], ...] = ()
    """Reference WAVs to render before the job runs: ``{"path", "window", "roots"}`` (a `ReferenceWindow` as a dict
    and the folders its clip was allowed from when the job arrived)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "OutputSpec":
        return cls(**dict(data))


@dataclass(frozen=True)
class Translation:
    """A validated request: the engine job's JSON and the outbox settings (with the reference windows to render)."""

    job: dict[str, Any]
    output: OutputSpec

    @property
    def references(self) -> tuple[str, ...]:
        """The reference files the worker will render for the job (removed when it ends)."""
        return tuple(plan["path"] for plan in self.output.renders)


# ------------------------------------------------------------------------------------------------------- parsing


def parse_json_text(text: str, where: str = "job") -> Any:
    """JSON text -> Python value; NaN and Infinity are refused (they are not JSON)."""

    def refuse(constant: str) -> Any:
        raise RequestError(f"{where}: {constant} is not allowed in JSON; send finite numbers")

    try:
        value = json.loads(text, parse_constant=refuse)
    except json.JSONDecodeError as error:
        raise RequestError(f"{where}: not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"
                           ) from None
    except RecursionError:
        raise RequestError(f"{where}: JSON nested too deeply") from None
    except RequestError:
        raise
    except ValueError:  # an integer of more digits than Python converts (4300)
        raise RequestError(f"{where}: a number has thousands of digits; send ordinary numbers") from None
    return fields.shallow(value, where)


def requested_id(data: Mapping[str, Any]) -> str | None:
    """The request's own ``id`` if it has a valid one (used to name the job in error replies)."""
    value = data.get("id") if isinstance(data, Mapping) else None
    return value if isinstance(value, str) and ID_PATTERN.match(value) else None


def translate_request(data: Any, ctx: TranslateContext, job_id: str, *, base_dir: Path | None = None) -> Translation:
    """Validate and translate a request (Live units if it has ``song``, else an engine job in seconds)."""
    data = fields.mapping(data, "job")
    if "song" in data:
        return translate_live_job(data, ctx, job_id)
    return translate_engine_job(data, ctx, base_dir=base_dir or ctx.inbox)


def translate_engine_job(data: Mapping[str, Any], ctx: TranslateContext, *, base_dir: Path) -> Translation:
    """An engine job in seconds, as is; references must lie in the allowed folders."""
    extra = sorted(str(k) for k in set(data) - _ENGINE_KEYS - _BRIDGE_KEYS)
    if extra:
        raise RequestError(f"{extra[0]}: is not a field of a job in seconds, and a job in Live units needs "
                           f"'song' (see docs/PROTOCOL.md)")
    lineage = _lineage(data)
    job_dict = {k: v for k, v in data.items() if k not in _BRIDGE_KEYS}
    job_dict.setdefault("model", ctx.model)
    controls = job_dict.get("controls", [])
    roots = (*ctx.audio_roots, ctx.inbox)
    if isinstance(controls, list):
        for i, control in enumerate(controls):
            if isinstance(control, Mapping) and isinstance(control.get("reference"), str):
                checked_file(control["reference"], f"controls[{i}].reference", roots, base=base_dir)
    if isinstance(job_dict.get("warm_start"), str) and job_dict["warm_start"].strip():  # as a reference
        job_dict["warm_start"] = str(checked_file(job_dict["warm_start"], "warm_start", roots, base=base_dir,
                                                  suffixes=(".pt", ".pth")))
    job = _validated(job_dict, base_dir)
    task = job.controls[0].type if job.controls else "generate"
    return Translation(_json_form(job), OutputSpec(job.name, task, ctx.sample_rate, ctx.channels, lineage=lineage))


def _json_form(job: Job) -> dict[str, Any]:
    """`Job.to_dict` as plain JSON types (lists, not tuples), as the queue stores it."""
    return json.loads(json.dumps(job.to_dict()))


def _lineage(data: Mapping[str, Any]) -> str | None:
    """The optional ``lineage`` field: the same characters and length as ``id``."""
    lineage = fields.get_string(data, "lineage", "", None)
    if lineage is not None and not ID_PATTERN.match(lineage):
        raise fields.fail("lineage", "must be 1 to 64 letters, digits, '_', '-' or '.'", lineage)
    return lineage


def _validated(job_dict: dict[str, Any], base_dir: Path | None) -> Job:
    try:
        return Job.from_dict(job_dict, base_dir=base_dir)
    except JobError as error:
        raise RequestError(f"engine job: {error}") from None


# ------------------------------------------------------------------------------------------------- Live units


def translate_live_job(data: Mapping[str, Any], ctx: TranslateContext, job_id: str) -> Translation:
    """A job in Live units -> `Translation` (see the module docstring for each task's time origin)."""
    fields.unknown_keys(data, _TOP_KEYS, "")
    request_id = fields.get_string(data, "id", "", None)
    if request_id is not None and not ID_PATTERN.match(request_id):
        raise fields.fail("id", "must be 1 to 64 letters, digits, '_', '-' or '.'", request_id)
    task = fields.get_string(data, "task", "", choices=TASKS)
    if data.get("rhythm") is not None and task not in RHYTHM_TASKS:
        raise fields.fail("rhythm", f"{task} jobs cannot carry a rhythm (only {', '.join(RHYTHM_TASKS)} can)")
    lineage = _lineage(data)
    song_raw = fields.mapping(data["song"], "song")
    song = SongTime(fields.get_number(song_raw, "tempo", "song", positive=True),
                    fields.get_integer(song_raw, "signature_numerator", "song", 4, minimum=1, maximum=99),
                    fields.get_integer(song_raw, "signature_denominator", "song", 4, minimum=1, maximum=16))
    sample_rate = fields.get_integer(song_raw, "sample_rate", "song", ctx.sample_rate, minimum=8000, maximum=192000)
    channels = fields.get_integer(song_raw, "channels", "song", ctx.channels, minimum=1, maximum=8)
    bars = snap_bars(fields.get_number(data, "length_bars", "", 4.0, positive=True, maximum=MAX_LENGTH_BARS))
    length_beats = song.bars_to_beats(bars)
    duration = song.beats_to_seconds(length_beats)
    name = fields.get_string(data, "name", "", task)
    device = data.get("device")
    if device is not None and not isinstance(device, Mapping):
        raise fields.fail("device", "must be an object (it is echoed in the sidecar)", device)

    job: dict[str, Any] = {"name": name, "model": fields.get_string(data, "model", "", ctx.model),
                           "quality": fields.get_string(data, "quality", "", "final", choices=QUALITIES)}
    tags = data.get("tags")
    if tags is not None:
        if isinstance(tags, str):
            tags = [t.strip() for t in tags.split(",") if t.strip()]
        if not isinstance(tags, list) or not all(isinstance(t, str) and len(t) <= 200 for t in tags) \
                or len(tags) > 64:
            raise fields.fail("tags", "must be a comma-separated string or a list of strings", data.get("tags"))
        job["tags"] = tags
    prompt = fields.get_string(data, "prompt", "", None)
    if prompt is not None:
        job["prompt"] = prompt
    job["seed"] = fields.get_integer(data, "seed", "", 0, minimum=0, maximum=2**31 - 1)
    job["variations"] = fields.get_integer(data, "variations", "", 1, minimum=1, maximum=16)
    steps = fields.get_integer(data, "steps", "", None, minimum=0, maximum=2000)
    if steps is not None:
        job["optimizer"] = {"steps": steps}
    sampler_steps = fields.get_integer(data, "sampler_steps", "", None, minimum=1, maximum=1000)
    if sampler_steps is not None:
        job["sampler"] = {"name": "ddim", "steps": sampler_steps}

    clip_raw = data.get("clip")
    clip_raw = None if clip_raw is None else fields.mapping(clip_raw, "clip")
    range_raw = data.get("range")
    range_raw = None if range_raw is None else fields.mapping(range_raw, "range")
    if range_raw is not None:
        fields.unknown_keys(range_raw, {"start", "end", "unit"}, "range")
    overlap_beats = fields.get_number(data, "overlap_beats", "", song.beats_per_bar, positive=True)

    controls: list[dict[str, Any]] = []
    renders: list[dict[str, Any]] = []
    planned: dict[int, str] = {}
    """Control index -> the reference WAV planned for it; the clip's own file stands in while the job is checked."""
    placement: dict[str, Any] = {"axis": "song_beats" if range_raw else "none", "start": 0.0,
                                 "length_beats": length_beats, "tempo": song.tempo}
    keep_seconds: float | None = None

    if task in CLIP_TASKS:
        clip = _clip_audio(clip_raw, task, song, ctx, required=task != "loop")
        if task == "loop" and clip is None:
            keep_seconds = duration
            overlap = song.beats_to_seconds(overlap_beats)
            duration = duration + overlap
            if overlap > duration / 2 + EPS:
                raise fields.fail("overlap_beats", f"must be at most the loop's length ({length_beats:g} beats)",
                                  overlap_beats)
            controls.append({"type": "loop", "overlap": overlap})
            placement["start"] = _range(range_raw, None, "beats")[0] if range_raw else 0.0
        else:
            assert clip is not None
            markers = ("start_marker", "end_marker") if task == "continue" else ("loop_start", "loop_end")
            start, end = _range(range_raw, clip_raw, clip.unit, markers)
            control, window, origin = _clip_task(task, clip, start, end, overlap_beats, duration, song)
            control["reference"] = window.file_path
            planned[len(controls)] = _plan(renders, window, ctx, f"{job_id}-{task}")
            controls.append(control)
            placement.update(axis=f"clip_{clip.unit}", start=origin)
    else:
        origin = 0.0
        if range_raw is not None:
            origin, _ = _range(range_raw, None, "beats")
            placement["start"] = origin
        if task == "melody":
            segments = melody_segments(_melody_notes(data, ctx), song=song, length_beats=length_beats)
            controls.append(melody_control(segments))
        elif task == "structure":
            cues = cue_points_from_live(data.get("cue_points"))
            controls.append(structure_control(sections_from_cues(cues, song=song, origin_beat=origin,
                                                                 length_beats=length_beats)))
    if task == "rhythm" or data.get("rhythm") is not None:
        control, window = _rhythm(data.get("rhythm"), task, song, length_beats, ctx)
        if window is not None:
            planned[len(controls)] = _plan(renders, window, ctx, f"{job_id}-rhythm")
        controls.append(control)
    if data.get("intensity") is not None:
        controls.append(_intensity(data["intensity"], song, length_beats))

    job["duration"] = duration
    job["controls"] = controls
    engine_job = _json_form(_validated(job, None))
    for index, path in planned.items():  # validated; now each control names the window rendered for it
        engine_job["controls"][index]["reference"] = path
    output = OutputSpec(name, task, sample_rate, channels, keep_seconds, placement,
                        dict(device) if device is not None else None, lineage, tuple(renders))
    return Translation(engine_job, output)


def _plan(renders: list[dict[str, Any]], window: ReferenceWindow, ctx: TranslateContext, stem: str) -> str:
    """Add `window` to the renders as ``<reference_dir>/<stem>.wav``, with the folders its clip may come from; that
    path."""
    path = str(ctx.reference_dir.resolve() / f"{stem}.wav")
    roots = [str(root) for root in (*ctx.audio_roots, ctx.inbox)]
    renders.append({"path": path, "window": window.to_dict(), "roots": roots})
    return path


def _range(range_raw: Mapping[str, Any] | None, clip_raw: Mapping[str, Any] | None, unit: str,
           default: tuple[str, str] = ("loop_start", "loop_end"), prefix: str = "") -> tuple[float, float]:
    """``(start, end)`` of the selection in `unit`; without a range, the clip's `default` pair (its loop brace).
    `prefix` is where ``range`` and ``clip`` sit in the request (``rhythm.`` for the drum clip)."""
    if range_raw is None:
        if clip_raw is None:
            raise fields.fail(f"{prefix}range", "is required for this task (or send the clip's loop brace)")
        start = fields.get_number(clip_raw, default[0], f"{prefix}clip")
        end = fields.get_number(clip_raw, default[1], f"{prefix}clip")
        where = f"{prefix}clip.{default[1]}"
    else:
        given = fields.get_string(range_raw, "unit", f"{prefix}range", unit, choices=("beats", "seconds"))
        if given != unit:
            raise fields.fail(f"{prefix}range.unit", f"the clip's positions are in {unit} "
                              f"({'warped' if unit == 'beats' else 'unwarped'} clip)", given)
        start = fields.get_number(range_raw, "start", f"{prefix}range")
        end = fields.get_number(range_raw, "end", f"{prefix}range")
        where = f"{prefix}range.end"
    if end <= start:
        raise fields.fail(where, f"must be after the start ({start:g})", end)
    return start, end


def _clip_audio(clip_raw: Mapping[str, Any] | None, task: str, song: SongTime, ctx: TranslateContext, *,
                required: bool, where: str = "clip") -> ClipAudio | None:
    """The audio clip `clip_raw` (sent as the field `where`), its file checked and opened; None without audio."""
    has_audio = (clip_raw is not None and fields.get_bool(clip_raw, "is_audio_clip", where, False)
                 and clip_raw.get("file_path"))
    if not has_audio:
        if required:
            raise fields.fail(where, f"{task} needs an audio clip (is_audio_clip true and its file_path)")
        return None
    assert clip_raw is not None
    path = checked_file(fields.get_string(clip_raw, "file_path", where), f"{where}.file_path",
                        (*ctx.audio_roots, ctx.inbox), base=ctx.inbox)
    try:
        warp = None
        if fields.get_bool(clip_raw, "warping", where, True):
            markers = clip_raw.get("warp_markers")
            if not markers:
                raise fields.fail(f"{where}.warp_markers", "a warped clip needs its warp markers (Live 11+)")
            warp = WarpMap.from_live(markers, song.seconds_per_beat, f"{where}.warp_markers")
        return ClipAudio.open(path, warp)
    except RequestError as error:  # WarpMap and ClipAudio word their errors for the top-level clip
        message = str(error)
        if where == "clip" or not message.startswith("clip."):
            raise
        raise RequestError(f"{where}{message[len('clip'):]}") from None


def _rhythm(raw: Any, task: str, song: SongTime, length_beats: float,
            ctx: TranslateContext) -> tuple[dict[str, Any], ReferenceWindow | None]:
    """The job's rhythm control and, for a drum clip's audio, the window to render as its reference (the control
    names the clip's file until the window is planned)."""
    if raw is None:
        raise fields.fail("rhythm", "the rhythm task needs a rhythm object: the drum clip's notes, its audio clip "
                          "or steps")
    request = parse_rhythm(raw)
    if request.source != "clip":
        return rhythm_control(request, song=song, length_beats=length_beats), None
    clip = _clip_audio(request.clip, task, song, ctx, required=True, where="rhythm.clip")
    assert clip is not None
    start, end = _range(request.range, request.clip, clip.unit, prefix="rhythm.")
    selection = "rhythm.range" if request.range is not None else "rhythm.clip (its loop brace)"
    window = reference_window(clip, start, end, song=song, duration=song.beats_to_seconds(length_beats),
                              where=selection)
    return rhythm_control(request, song=song, length_beats=length_beats, reference=window.file_path), window


def _clip_task(task: str, clip: ClipAudio, start: float, end: float, overlap_beats: float, duration: float,
               song: SongTime) -> tuple[dict[str, Any], ReferenceWindow, float]:
    """The control, the reference window and the output's origin on the clip axis for a clip task."""
    lo, hi = clip.axis_bounds()
    window_axis = clip.axis_length(duration, song)
    overlap = song.beats_to_seconds(overlap_beats)
    overlap_axis = clip.axis_length(overlap, song)
    if start < lo - 1e-6 or end > hi + 1e-6:
        raise RequestError(f"range: {start:g} to {end:g} {clip.unit} lies outside the clip's audio "
                           f"({lo:g} to {hi:g} {clip.unit})")
    if task == "inpaint":
        gap_axis = end - start
        if gap_axis >= window_axis - EPS:
            raise RequestError(f"range: the gap ({gap_axis:g} {clip.unit}) must be shorter than the rendered length "
                               f"({window_axis:g} {clip.unit}); raise length_bars")
        if hi - lo < window_axis - 1e-6:
            raise RequestError(f"clip.file_path: the audio ({clip.output_seconds(hi - lo, song):.2f} s of output) is "
                               f"shorter than the rendered length ({duration:.2f} s); lower length_bars")
        origin = start - (window_axis - gap_axis) / 2
        origin = min(max(origin, lo), hi - window_axis)
        gap = [clip.output_seconds(start - origin, song), clip.output_seconds(end - origin, song)]
        control = {"type": "inpaint", "gap": [max(0.0, gap[0]), min(duration, gap[1])]}
        return control, ReferenceWindow.of(clip, origin, duration, song), origin
    if task == "continue":
        if overlap >= duration - EPS:
            raise fields.fail("overlap_beats", f"must be shorter than the rendered length "
                              f"({song.seconds_to_beats(duration):g} beats)", overlap_beats)
        origin = end - overlap_axis
        if origin < lo - 1e-6:
            raise fields.fail("overlap_beats", f"reaches before the clip's audio starts ({lo:g} {clip.unit})",
                              overlap_beats)
        ref_start = max(lo, start, end - 2 * overlap_axis)
        ref_start = min(ref_start, origin)
        ref_seconds = clip.output_seconds(end - ref_start, song)
        control = {"type": "outpaint", "overlap": overlap}
        return control, ReferenceWindow.of(clip, ref_start, ref_seconds, song), origin
    # loop with clip audio: a bridge from the end of the range back into its start
    if overlap > duration / 2 + EPS:
        raise fields.fail("overlap_beats", f"must be at most half the rendered length "
                          f"({song.seconds_to_beats(duration) / 2:g} beats)", overlap_beats)
    if overlap_axis > end - start + 1e-6:
        raise fields.fail("overlap_beats", f"must fit in the range ({end - start:g} {clip.unit})", overlap_beats)
    control = {"type": "loop", "overlap": overlap}
    return control, ReferenceWindow.of(clip, start, clip.output_seconds(end - start, song), song), end - overlap_axis


def _melody_notes(data: Mapping[str, Any], ctx: TranslateContext) -> list:
    if data.get("midi_file") is not None:
        path = checked_file(fields.get_string(data, "midi_file", ""), "midi_file", (*ctx.audio_roots, ctx.inbox),
                            base=ctx.inbox, suffixes=(".mid", ".midi"))
        return notes_from_midi_file(path)
    if data.get("notes") is None:
        raise fields.fail("notes", "melody needs notes (or a midi_file)")
    return notes_from_live(data["notes"])


def _intensity(raw: Any, song: SongTime, length_beats: float) -> dict[str, Any]:
    data = fields.mapping(raw, "intensity")
    fields.unknown_keys(data, {"breakpoints", "min", "max", "unit"}, "intensity")
    unit = fields.get_string(data, "unit", "intensity", "db", choices=("db", "normalized"))
    low, high = (NORMALIZED_MIN_DB, NORMALIZED_MAX_DB) if unit == "normalized" else (DB_MIN_DB, DB_MAX_DB)
    min_db = fields.get_number(data, "min", "intensity", low)
    max_db = fields.get_number(data, "max", "intensity", high)
    points = []
    for i, item in enumerate(fields.get_list(data, "breakpoints", "intensity")):
        where = f"intensity.breakpoints[{i}]"
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise fields.fail(where, "must be [beat, value]", item)
        points.append((fields.number(item[0], f"{where}[0]"), fields.number(item[1], f"{where}[1]")))
    curve = breakpoints_to_curve(points, song=song, length_beats=length_beats, min_db=min_db, max_db=max_db,
                                 unit=unit)
    return curve.to_control()
