/*
 * ditto_device.js: the JavaScript of the ditto-bridge Max for Live device (the `js` object).
 *
 * ES5 only: Max 8's `js` (what Live 11 and early Live 12 bundle) runs SpiderMonkey 1.8.5, so no
 * let/const, arrow functions, classes, template literals or String.prototype.includes. There is
 * no setTimeout in Max JavaScript: timing uses Max's Task.
 *
 * Layout of this file:
 *   1. Protocol constants          the OSC addresses of docs/PROTOCOL.md that the device uses.
 *   2. Pure functions              LOM values in, protocol messages and Live-units jobs out.
 *                                  No LiveAPI, no Max objects: the tests call them directly.
 *   3. Reading and writing the set the thin layer that touches LiveAPI.
 *   4. Max glue                    inlets, outlets, Tasks, message handlers.
 *
 * Units: "beats" are Live's beats (quarter notes); positions of unwarped audio clips are seconds as
 * Live reports them; the Intensity parameter and every intensity breakpoint value is in dB.
 */

/* ============================== 1. Protocol constants ============================== */

var PROTOCOL_VERSION = 1;
var DEFAULT_PORT = 9100;
var DEFAULT_REPLY_PORT = 9101;

var ADDR_PING = "/ditto/ping";
var ADDR_GENERATE = "/ditto/generate";
var ADDR_CANCEL = "/ditto/cancel";
var ADDR_STATUS = "/ditto/status";
var ADDR_PONG = "/ditto/pong";
var ADDR_ACCEPTED = "/ditto/accepted";
var ADDR_CANCELLED = "/ditto/cancelled";
var ADDR_PROGRESS = "/ditto/progress";
var ADDR_DONE = "/ditto/done";
var ADDR_ERROR = "/ditto/error";

/** OSC type tags of the arguments the device sends, per request address (checked against PROTOCOL.md by the tests). */
var REQUEST_TYPES = {
    "/ditto/ping": "i",
    "/ditto/generate": "s",
    "/ditto/cancel": "s",
    "/ditto/status": ""
};

/** Order of the task menu; the labels are what the producer sees. */
var TASKS = ["generate", "inpaint", "continue", "loop", "melody", "structure", "rhythm"];
var TASK_LABELS = ["Generate", "Inpaint", "Continue", "Loop", "Match melody", "Structure", "Rhythm"];
var QUALITIES = ["draft", "final"];
/**
 * The Curve menu: Off; Drawn (the breakpoint editor); Automation (the Intensity envelope of the selected
 * Session clip when Live lets the device read it, else what Rec recorded while the clip or the set played).
 */
var CURVE_SOURCES = ["off", "drawn", "automation"];
var RANGE_SOURCES = ["clip", "arrangement"];
var PLACES = ["session_this", "session_selected", "arrangement_this"];
/**
 * The Rhythm task's source: "clip" plays on the selected drum clip (its MIDI notes, or the onsets of its audio)
 * and on the device's steps when no clip is selected; "steps" always plays on the steps.
 */
var RHYTHM_SOURCES = ["clip", "steps"];
/** The step editor's resolution menu (1/4, 1/8, 1/8T, 1/16, 1/16T, 1/32) as steps per beat; 1/16 at first. */
var RHYTHM_RESOLUTIONS = [1, 2, 3, 4, 6, 8];
var RHYTHM_RESOLUTION_LABELS = ["1/4", "1/8", "1/8T", "1/16", "1/16T", "1/32"];
var DEFAULT_RESOLUTION = 3;
/** Steps in the editor; an accent below STEP_REST_BELOW (a bar too short to see) is a rest. */
var PATTERN_STEPS = 16;
var STEP_REST_BELOW = 0.05;
/** The Swing dial's range (%): every second step is delayed by this share of a step. */
var MAX_SWING_PERCENT = 75;
/**
 * Drum notes starting less than this apart (beats) are one hit: the same position on Live's grid. The daemon merges
 * notes up to 10 ms apart into one onset; the device merges only what is surely one, to keep the job small.
 */
var SAME_HIT_BEATS = 1e-4;

/** The Intensity parameter's range (dB); the breakpoint editor uses the same range. It lies inside the levels the
 * built-in model's music reaches (-39.5 to -13.3 dB, docs/JOB_SCHEMA.md), so the dial from bottom to top asks
 * for music, never for silence and a burst; a job can still ask for more, and the daemon applies the rest as gain. */
var INTENSITY_MIN_DB = -39;
var INTENSITY_MAX_DB = -14;

/** A /ditto/generate carrying JSON above this many UTF-8 bytes goes through a file in the inbox. */
var MAX_INLINE_JSON_BYTES = 6000;

/** Seconds between pings; pongs missed in a row before the light goes off. */
var PING_INTERVAL_MS = 2000;
var MISSED_PONGS_OFFLINE = 2;
/** Sampling period of the Intensity recorder (ms) and its simplification tolerance (dB). */
var RECORD_INTERVAL_MS = 50;
var RECORD_TOLERANCE_DB = 0.25;
/** The Idea parameter's range (the Fresh button counts up and wraps to 0). */
var MAX_IDEA = 9999;
/**
 * A clip envelope is read at this many points per bar of the render (Envelope.value_at_time), then points
 * lying within ENVELOPE_TOLERANCE_DB of the line through their neighbours are dropped (0.2 % of the dial's
 * range, so the curve sent stays within 1 % of the envelope wherever it was sampled).
 */
var ENVELOPE_POINTS_PER_BAR = 16;
var ENVELOPE_TOLERANCE_DB = 0.05;
/** How Live names the device's Intensity parameter (its Long and Short names). */
var INTENSITY_PARAMETER_NAMES = ["Intensity", "Intens"];
/** Version of the state saved with the Live set (getvalueof / setvalueof); at most this many recorded points. */
var STATE_VERSION = 1;
var MAX_SAVED_POINTS = 4000;

/* ============================== 2. Pure functions ============================== */

/** An error the producer can act on; `message` is in plain words. */
function DeviceError(message) {
    this.name = "DeviceError";
    this.message = message;
}
DeviceError.prototype = new Error();
DeviceError.prototype.constructor = DeviceError;

/** Beats (quarter notes) in one bar of numerator/denominator. */
function beatsPerBar(numerator, denominator) {
    return numerator * 4 / denominator;
}

/** Rounds to `digits` decimals so JSON stays short (positions keep 1e-6 beat resolution). */
function roundTo(x, digits) {
    var f = Math.pow(10, digits);
    return Math.round(x * f) / f;
}

/** First atom of a LiveAPI.get result as a number. */
function atomNumber(atoms) {
    if (atoms === undefined || atoms === null) return NaN;
    if (typeof atoms === "number") return atoms;
    return Number(atoms[0]);
}

/** A LiveAPI.get result as one string (a symbol may come back split at spaces). */
function atomString(atoms) {
    if (atoms === undefined || atoms === null) return "";
    if (typeof atoms === "string") return atoms;
    return atoms.join(" ");
}

/** The ids in a LiveAPI.get result for a child or list of children: ["id", 3, "id", 7] -> [3, 7]. */
function atomIds(atoms) {
    var ids = [];
    var i;
    for (i = 0; i + 1 < atoms.length; i += 2) {
        if (atoms[i] === "id" && Number(atoms[i + 1]) !== 0) ids.push(Number(atoms[i + 1]));
    }
    return ids;
}

/** A dict-valued property or function result (warp_markers, get_notes_extended) as an object. */
function atomDict(atoms) {
    var text = atomString(atoms);
    if (!text) return null;
    try {
        return JSON.parse(text);
    } catch (e) {
        return null;
    }
}

/** UTF-8 byte length of a string (ES5: via encodeURIComponent). */
function utf8Length(s) {
    return unescape(encodeURIComponent(s)).length;
}

/** The axis of a clip's positions: "seconds" for unwarped audio clips, "beats" otherwise (as Live reports them). */
function clipUnit(clip) {
    return clip.is_audio_clip && !clip.warping ? "seconds" : "beats";
}

/** The clip position Live plays first (loop start when looping, else the start marker), in clip units. */
function clipFirstPosition(clip) {
    return clip.looping ? clip.loop_start : clip.start_marker;
}

/**
 * A length on the clip's axis as song beats: unwarped audio plays at the file's own speed, so one
 * second of it lasts tempo / 60 beats; warped and MIDI clips are already in beats.
 */
function clipLengthToBeats(length, clip, tempo) {
    return clipUnit(clip) === "seconds" ? length * tempo / 60 : length;
}

/** A length in song beats on the clip's axis (the inverse of clipLengthToBeats). */
function beatsToClipLength(beats, clip, tempo) {
    return clipUnit(clip) === "seconds" ? beats * 60 / tempo : beats;
}

/** The song position (beats) of clip position `pos` for an Arrangement clip. */
function clipToSongBeat(pos, clip, tempo) {
    return clip.start_time + clipLengthToBeats(pos - clipFirstPosition(clip), clip, tempo);
}

/**
 * The range a task acts on, on the clip's own axis (beats, or seconds for unwarped audio, as Live
 * reports the clip's positions):
 *   rangeSource "clip": the loop brace when looping is on, else the start/end markers.
 *   rangeSource "arrangement": the arrangement loop (Song.loop_start, loop_length) mapped onto an
 *   Arrangement clip (the clip's first played position sits at its start_time in the song).
 * Returns {start, end, unit}.
 */
function clipRange(clip, rangeSource, song) {
    var start;
    var end;
    if (rangeSource === "arrangement") {
        if (!clip.is_arrangement_clip) {
            throw new DeviceError("The arrangement loop only maps onto a clip in the Arrangement. "
                + "Select the range with the clip's loop brace, or set Range to Clip loop.");
        }
        start = clipFirstPosition(clip) + beatsToClipLength(song.loop_start - clip.start_time, clip, song.tempo);
        end = start + beatsToClipLength(song.loop_length, clip, song.tempo);
        if (start < clip.start_marker - 1e-6 || end > clip.end_marker + 1e-6) {
            throw new DeviceError("The arrangement loop reaches outside the clip '" + (clip.name || "(unnamed)")
                + "': move the loop brace so that it lies inside the clip.");
        }
    } else if (clip.looping) {
        start = clip.loop_start;
        end = clip.loop_end;
    } else {
        start = clip.start_marker;
        end = clip.end_marker;
    }
    if (!(end > start)) {
        throw new DeviceError("The selected range is empty: widen the clip's loop brace or the arrangement loop.");
    }
    return { start: roundTo(start, 6), end: roundTo(end, 6), unit: clipUnit(clip) };
}

/** The arrangement loop as a range in song beats. */
function arrangementRange(song) {
    if (!(song.loop_length > 0)) {
        throw new DeviceError("The arrangement loop is empty: drag the loop brace in the Arrangement first.");
    }
    return { start: roundTo(song.loop_start, 6), end: roundTo(song.loop_start + song.loop_length, 6), unit: "beats" };
}

/**
 * Notes of a MIDI clip inside [start, end) beats, with times made relative to `start` and cut at
 * both ends; fields as get_notes_extended returns them (pitch, start_time, duration, velocity, mute).
 */
function notesInRange(notes, start, end) {
    var out = [];
    var i;
    var n;
    var s;
    var e;
    for (i = 0; i < notes.length; i += 1) {
        n = notes[i];
        s = Math.max(n.start_time, start);
        e = Math.min(n.start_time + n.duration, end);
        if (e > s) {
            out.push({
                pitch: n.pitch,
                start_time: roundTo(s - start, 6),
                duration: roundTo(e - s, 6),
                velocity: roundTo(n.velocity, 3),
                mute: n.mute ? 1 : 0
            });
        }
    }
    out.sort(function (a, b) { return a.start_time - b.start_time || a.pitch - b.pitch; });
    return out;
}

/**
 * The hits of a drum clip inside [start, end) beats, for the Rhythm task: the notes that start there (a note
 * held across `start` from before is not a hit inside it), unmuted and of velocity > 0, times relative to
 * `start`, durations cut at `end`. Notes that start together (a kick and a hat) travel as one note, the loudest,
 * since they make one onset whose accent is the loudest velocity; fewer notes keep the job inside one datagram.
 * Fields as get_notes_extended returns them: [{pitch, start_time, duration, velocity, mute}], sorted by time.
 */
function drumHitsInRange(notes, start, end) {
    var sounding = [];
    var i;
    var n;
    for (i = 0; i < notes.length; i += 1) {
        n = notes[i];
        if (!n.mute && n.velocity > 0 && n.start_time >= start - 1e-9 && n.start_time < end - 1e-9) sounding.push(n);
    }
    sounding.sort(function (a, b) { return a.start_time - b.start_time || a.pitch - b.pitch; });
    var out = [];
    var hitStart = null;
    var hit = null;
    for (i = 0; i < sounding.length; i += 1) {
        n = sounding[i];
        if (hit === null || n.start_time - hitStart >= SAME_HIT_BEATS) {
            hitStart = n.start_time;
            hit = { pitch: n.pitch, start_time: roundTo(n.start_time - start, 6), duration: 0, velocity: -1, mute: 0 };
            out.push(hit);
        }
        if (n.velocity > hit.velocity) {
            hit.pitch = n.pitch;
            hit.velocity = roundTo(n.velocity, 3);
            hit.duration = Math.max(1e-6, roundTo(Math.min(n.start_time + n.duration, end) - n.start_time, 6));
        }
    }
    return out;
}

/**
 * The step editor's values as accents: PATTERN_STEPS numbers in 0-1 (3 decimals), anything missing, not a
 * number or below STEP_REST_BELOW a rest (0).
 */
function stepPattern(values) {
    var out = [];
    var i;
    var v;
    for (i = 0; i < PATTERN_STEPS; i += 1) {
        v = values && i < values.length ? Number(values[i]) : 0;
        v = isFinite(v) ? Math.max(0, Math.min(1, v)) : 0;
        out.push(v < STEP_REST_BELOW ? 0 : roundTo(v, 3));
    }
    return out;
}

/** How many steps of a pattern sound (accent > 0). */
function soundingSteps(pattern) {
    var n = 0;
    var i;
    for (i = 0; i < pattern.length; i += 1) if (pattern[i] > 0) n += 1;
    return n;
}

/**
 * The `rhythm` object of a job from the step editor: {steps, steps_per_beat, swing}, or null when no step
 * sounds. `resolution` indexes RHYTHM_RESOLUTIONS; `swingPercent` is the Swing dial (0-75 %), sent as a share
 * of a step (0-0.75).
 */
function rhythmFromSteps(pattern, resolution, swingPercent) {
    var steps = stepPattern(pattern);
    if (!soundingSteps(steps)) return null;
    var index = Math.max(0, Math.min(RHYTHM_RESOLUTIONS.length - 1, Math.round(resolution)));
    var swing = Math.max(0, Math.min(MAX_SWING_PERCENT, Number(swingPercent) || 0));
    return { steps: steps, steps_per_beat: RHYTHM_RESOLUTIONS[index], swing: roundTo(swing / 100, 4) };
}

/** Perpendicular distance (in value units) of point p from the line through a and b, measured vertically. */
function verticalDistance(p, a, b) {
    if (b[0] === a[0]) return Math.abs(p[1] - a[1]);
    var y = a[1] + (b[1] - a[1]) * (p[0] - a[0]) / (b[0] - a[0]);
    return Math.abs(p[1] - y);
}

/**
 * Drops breakpoints that lie within `tolerance` (value units) of the line through their neighbours
 * (Ramer-Douglas-Peucker with a vertical error), keeping the first and last. [[beat, value], ...].
 */
function simplifyBreakpoints(points, tolerance) {
    if (points.length <= 2) return points.slice();
    var keep = [];
    var i;
    for (i = 0; i < points.length; i += 1) keep.push(false);
    keep[0] = true;
    keep[points.length - 1] = true;
    var stack = [[0, points.length - 1]];
    var seg;
    var worst;
    var worstIndex;
    var d;
    while (stack.length) {
        seg = stack.pop();
        worst = -1;
        worstIndex = -1;
        for (i = seg[0] + 1; i < seg[1]; i += 1) {
            d = verticalDistance(points[i], points[seg[0]], points[seg[1]]);
            if (d > worst) { worst = d; worstIndex = i; }
        }
        if (worstIndex >= 0 && worst > tolerance) {
            keep[worstIndex] = true;
            stack.push([seg[0], worstIndex]);
            stack.push([worstIndex, seg[1]]);
        }
    }
    var out = [];
    for (i = 0; i < points.length; i += 1) if (keep[i]) out.push(points[i]);
    return out;
}

/**
 * Adds one sample of the Intensity parameter at song time `beat` to a recording, in place.
 * When playback jumps back (a loop, a restart), the samples from that point on are replaced by the
 * new pass. Returns the recording.
 */
function recordIntensitySample(points, beat, valueDb) {
    while (points.length && points[points.length - 1][0] >= beat) points.pop();
    points.push([beat, valueDb]);
    return points;
}

/** Clamps a dB value into the Intensity range. */
function clampDb(v) {
    return Math.max(INTENSITY_MIN_DB, Math.min(INTENSITY_MAX_DB, v));
}

/**
 * The breakpoint editor's dump (`listdump` of Max's function object: x1 y1 x2 y2 ..., x in beats from
 * the start of the render, y in dB) as breakpoints [[beat, dB], ...].
 */
function breakpointsFromFunctionDump(flat) {
    var out = [];
    var i;
    for (i = 0; i + 1 < flat.length; i += 2) {
        out.push([roundTo(Number(flat[i]), 4), roundTo(clampDb(Number(flat[i + 1])), 3)]);
    }
    out.sort(function (a, b) { return a[0] - b[0]; });
    return out;
}

/**
 * A recording in song beats as breakpoints relative to `origin` (the start of the render), limited
 * to [0, lengthBeats], simplified to RECORD_TOLERANCE_DB.
 */
function breakpointsFromRecording(recording, origin, lengthBeats) {
    var shifted = [];
    var i;
    var x;
    for (i = 0; i < recording.length; i += 1) {
        x = recording[i][0] - origin;
        if (x >= 0 && x <= lengthBeats) shifted.push([roundTo(x, 4), roundTo(clampDb(recording[i][1]), 3)]);
    }
    return simplifyBreakpoints(shifted, RECORD_TOLERANCE_DB);
}

/**
 * Breakpoints [[beat, dB], ...] whose beats were laid out over `fromDomain` beats, moved to `toDomain` beats
 * keeping their place in the render (what the editor's `setdomain` does to its points).
 */
function rescaleBreakpoints(points, fromDomain, toDomain) {
    var out = [];
    var i;
    if (!(fromDomain > 0) || !(toDomain > 0)) return points.slice();
    for (i = 0; i < points.length; i += 1) {
        out.push([roundTo(points[i][0] * toDomain / fromDomain, 4), points[i][1]]);
    }
    return out;
}

/**
 * The clip position Live plays when it runs on to clip position `pos` (clip units): a looping clip wraps
 * into its loop brace (its envelopes repeat with it); a clip that does not loop stops at its end marker,
 * after which its envelope keeps its last value.
 */
function clipPlayPosition(clip, pos) {
    if (clip.looping) {
        var len = clip.loop_end - clip.loop_start;
        if (len > 0 && pos >= clip.loop_end) return clip.loop_start + ((pos - clip.loop_start) % len);
        return pos;
    }
    return Math.min(pos, clip.end_marker);
}

/**
 * Where to read a clip's envelope for a render of `lengthBeats` beats whose beat 0 lies at clip position
 * `origin` (clip units): every bar / ENVELOPE_POINTS_PER_BAR beats, and at the render's end.
 * Returns [{beat, pos}]: beat from the render start, pos on the clip's axis (wrapped as Live plays it). The
 * render's last instant is read just before a loop wraps (at the loop's end), not after it.
 */
function envelopeSamplePoints(clip, origin, lengthBeats, bar, tempo) {
    var step = bar / ENVELOPE_POINTS_PER_BAR;
    var n = Math.ceil(lengthBeats / step - 1e-9);
    var out = [];
    var k;
    var beat;
    var raw;
    var pos;
    for (k = 0; k <= n; k += 1) {
        beat = Math.min(k * step, lengthBeats);
        raw = origin + beatsToClipLength(beat, clip, tempo);
        pos = clipPlayPosition(clip, raw);
        if (k === n && k > 0 && clip.looping && raw > clip.loop_start && Math.abs(pos - clip.loop_start) < 1e-9) pos = clip.loop_end;
        out.push({ beat: roundTo(beat, 6), pos: roundTo(pos, 6) });
    }
    return out;
}

/** A value of the Intensity parameter in Live's units as dB: [pmin, pmax] maps onto the dial's range. */
function parameterValueToDb(value, pmin, pmax) {
    if (!(pmax > pmin)) return clampDb(value);
    return clampDb(INTENSITY_MIN_DB + (value - pmin) * (INTENSITY_MAX_DB - INTENSITY_MIN_DB) / (pmax - pmin));
}

/** Breakpoints [[beat, dB], ...] from values (dB) read at envelopeSamplePoints, simplified. */
function breakpointsFromEnvelope(samples, valuesDb) {
    var points = [];
    var i;
    for (i = 0; i < samples.length && i < valuesDb.length; i += 1) {
        if (isFinite(valuesDb[i])) points.push([roundTo(samples[i].beat, 4), roundTo(clampDb(valuesDb[i]), 3)]);
    }
    return simplifyBreakpoints(points, ENVELOPE_TOLERANCE_DB);
}

/** The value of a recording [[position, value], ...] (sorted) at `pos`: straight lines between points, held outside. */
function valueAtPosition(points, pos) {
    if (!points.length) return NaN;
    if (pos <= points[0][0]) return points[0][1];
    var i;
    for (i = 1; i < points.length; i += 1) {
        if (points[i][0] >= pos) {
            var a = points[i - 1];
            var b = points[i];
            return b[0] === a[0] ? b[1] : a[1] + (b[1] - a[1]) * (pos - a[0]) / (b[0] - a[0]);
        }
    }
    return points[points.length - 1][1];
}

/**
 * The prompt from the atoms of the tags box: words joined by spaces, a "," or ";" atom kept with the word
 * before it (Max may hand punctuation over as atoms of its own), and a lone "bang" (what Max sends for an
 * emptied box) as the empty prompt.
 */
function promptText(atoms) {
    var out = "";
    var i;
    var t;
    if (!atoms || !atoms.length) return "";
    if (atoms.length === 1 && String(atoms[0]) === "bang") return "";
    for (i = 0; i < atoms.length; i += 1) {
        t = String(atoms[i]);
        if (t === "," || t === ";") out += t;
        else if (t.length) out += (out.length ? " " : "") + t;
    }
    return out;
}

/**
 * The status line's words for where the curve of a job came from: {source, points, clip, note}; "" when the
 * job has no curve.
 */
function curveStatusText(curve) {
    if (!curve) return "";
    var n = " (" + curve.points + " point" + (curve.points === 1 ? "" : "s") + ")";
    var note = curve.note ? "; " + curve.note : "";
    if (curve.source === "editor") return "intensity drawn in the editor" + n;
    if (curve.source === "clip envelope") return "intensity from the Intensity envelope of clip '" + curve.clip + "'" + n;
    if (curve.source === "clip recording") return "intensity recorded while clip '" + curve.clip + "' played" + n + note;
    return "intensity recorded while the set played" + n + note;
}

/**
 * Why a clip's Intensity envelope could not be read (the reader's status), in words for the status line
 * when the device falls back to the recording, or for the error line when there is none.
 */
function envelopeProblem(status, clipName) {
    var name = "'" + (clipName || "(unnamed)") + "'";
    if (status === "none") return "clip " + name + " has no Intensity envelope";
    if (status === "unsupported") return "this version of Live does not let a device read clip envelopes";
    if (status === "other_track") return "clip " + name + " is on another track (a clip's envelopes belong to devices on its own track)";
    return "Live does not let a device read Arrangement automation, only record it";
}

/** The error when Curve = Automation finds nothing to read and nothing recorded. */
function automationMissingText(status, clipName) {
    var record = "arm Rec and play the set with the Intensity automation (the device records it as it plays), then press Generate.";
    if (status === "none") {
        return "Clip '" + (clipName || "(unnamed)") + "' has no Intensity envelope: draw one in its Envelopes box (this device, "
            + "control Intensity) and press Generate, or " + record;
    }
    if (status === "unsupported") {
        return "This version of Live does not let a device read clip envelopes: arm Rec and play clip '" + (clipName || "(unnamed)")
            + "' once (the device records Intensity as the clip plays), then press Generate.";
    }
    if (status === "other_track") {
        return "Clip '" + (clipName || "(unnamed)") + "' is on another track, and a clip's envelopes belong to the devices on its own "
            + "track: select a clip on this device's track whose envelope draws Intensity, or " + record;
    }
    return "No Intensity automation to read: Live does not let a device read Arrangement automation, so " + record
        + " Or select a Session clip on this track whose envelope draws Intensity.";
}

/** The `intensity` object of a job: {breakpoints, min, max}, or null when there are fewer than one point. */
function intensityObject(breakpoints) {
    if (!breakpoints || !breakpoints.length) return null;
    return { breakpoints: breakpoints, min: INTENSITY_MIN_DB, max: INTENSITY_MAX_DB, unit: "db" };
}

/** The `clip` object of a job from the clip values read through LiveAPI. */
function jobClip(clip) {
    var out = {
        is_audio_clip: clip.is_audio_clip ? true : false,
        loop_start: roundTo(clip.loop_start, 6),
        loop_end: roundTo(clip.loop_end, 6),
        start_marker: roundTo(clip.start_marker, 6),
        end_marker: roundTo(clip.end_marker, 6),
        length: roundTo(clip.length, 6)
    };
    if (clip.is_audio_clip) {
        out.file_path = clip.file_path;
        out.warping = clip.warping ? true : false;
        out.warp_markers = [];
        var i;
        for (i = 0; i < clip.warp_markers.length; i += 1) {
            out.warp_markers.push({
                beat_time: roundTo(clip.warp_markers[i].beat_time, 6),
                sample_time: roundTo(clip.warp_markers[i].sample_time, 6)
            });
        }
    }
    return out;
}

/**
 * FNV-1a hash of a string (its UTF-16 code units) as 8 hex digits. ES5 has no Math.imul: the multiplication by
 * the FNV prime 2^24 + 403 is done with shifts, then reduced to 32 bits.
 */
function fnv1a(text) {
    var h = 0x811c9dc5;
    var i;
    for (i = 0; i < text.length; i += 1) {
        h ^= text.charCodeAt(i);
        h = (h + (h << 1) + (h << 4) + (h << 7) + (h << 8) + (h << 24)) >>> 0;
    }
    var hex = h.toString(16);
    while (hex.length < 8) hex = "0" + hex;
    return hex;
}

/**
 * Where a clip sits in the set, for the lineage: its LOM path for a Session clip ("live_set tracks 1 clip_slots 0
 * clip"); for an Arrangement clip its track and song position (the arrangement_clips index shifts when clips are
 * added before it).
 */
function clipPlace(clip) {
    var p = String(clip.path || "");
    if (clip.is_arrangement_clip) return p.replace(/\s+arrangement_clips\s+\d+$/, "") + " at " + roundTo(clip.start_time, 6);
    return p;
}

/**
 * The job's lineage (docs/PROTOCOL.md, field `lineage`): the daemon starts a job from the optimized noise of the
 * last finished take of the same lineage instead of fresh noise. It stays the same while the producer tweaks one
 * idea (the curve, the tags, steps, quality, length, the clip's loop brace) and changes with the task, the seed,
 * the Idea number (the Fresh button) and `place`: the device's track plus the clip the task reads, or the start
 * of the range for tasks that read no clip.
 * "m4l-<task>-s<seed>-i<idea>-<8 hex digits of place>": at most 64 of A-Z a-z 0-9 _ - . as the daemon requires.
 */
function lineageFor(task, seed, idea, place) {
    return "m4l-" + task + "-s" + Math.max(0, Math.round(seed)) + "-i" + Math.max(0, Math.round(idea || 0))
        + "-" + fnv1a(String(place));
}

/**
 * The status line's note on how a take started, from its sidecar JSON (`ditto_bridge.warm_start_from`): "" when
 * it started from seeded noise.
 */
function warmStartText(sidecar) {
    var from = sidecar && sidecar.ditto_bridge ? sidecar.ditto_bridge.warm_start_from : null;
    return from ? " (continued from job " + from + ")" : "";
}

/**
 * The status line after a take arrives: what the device did with it, then the daemon's summary of the take
 * (`/ditto/done`'s third argument: each control met or missed by how much, and any gain, in words) when there is one.
 */
function doneStatusText(text, summary) {
    var words = summary === undefined || summary === null ? "" : String(summary);
    return words ? text + " · " + words : text;
}

function requireAudioClip(clip, taskLabel) {
    if (!clip) {
        throw new DeviceError(taskLabel + " needs an audio clip: click one so that it shows in Live's clip view, then press Generate.");
    }
    if (!clip.is_audio_clip) {
        throw new DeviceError(taskLabel + " works on audio: the selected clip is a MIDI clip. Select an audio clip.");
    }
    if (!clip.file_path) {
        throw new DeviceError("The selected audio clip has no file on disk. Consolidate or freeze it first.");
    }
}

/**
 * What the Rhythm task plays on (docs/PROTOCOL.md, field `rhythm`), from the Rhythm source, the selected clip
 * and the step editor:
 *   a MIDI clip: its hits inside its range (drumHitsInRange), relative to the range's start, and
 *     `loop_beats` = the range's length (the clip repeats over a longer render); the job's `range` is the
 *     clip's range as for Match melody (song beats for an Arrangement clip, else the clip's own beats);
 *   an audio clip: `clip` (as jobClip) and `range` (as clipRange, on the clip's own axis) inside `rhythm`:
 *     the daemon renders that stretch as it plays in the set and finds its onsets; an Arrangement clip's
 *     range in song beats is also the job's `range`, so the take lands under the drum clip;
 *   the steps (Rhythm = Steps, or no clip selected): {steps, steps_per_beat, swing}; with Range = Arr. loop
 *     the job's `range` is the arrangement loop, as for Generate.
 * Returns {rhythm, range, anchor, clipOrigin, readsClip, name, source}: range and anchor (song beats) may be
 * null; clipOrigin is where the render starts on the clip's axis (null: its first played position); source
 * describes it for the status line. Throws DeviceError in plain words.
 */
function rhythmPart(clip, notes, s, song) {
    var rangeSource = RANGE_SOURCES[s.rangeSource] || "clip";
    var out = {
        rhythm: null, range: null, anchor: null, clipOrigin: null, readsClip: false, name: "rhythm", source: null
    };
    if ((RHYTHM_SOURCES[s.rhythmSource] || "clip") === "clip" && clip) {
        var span = clipRange(clip, rangeSource, song);
        out.readsClip = true;
        out.name = clip.name || "rhythm";
        out.clipOrigin = span.start;
        if (clip.is_arrangement_clip) {
            out.range = {
                start: roundTo(clipToSongBeat(span.start, clip, song.tempo), 6),
                end: roundTo(clipToSongBeat(span.end, clip, song.tempo), 6),
                unit: "beats"
            };
            out.anchor = out.range.start;
        }
        if (clip.is_audio_clip) {
            requireAudioClip(clip, "Rhythm");
            out.rhythm = { clip: jobClip(clip), range: span };
            out.source = { kind: "audio", clip: clip.name || "(unnamed)" };
            return out;
        }
        var hits = drumHitsInRange(notes || [], span.start, span.end);
        if (!hits.length) {
            throw new DeviceError("The drum clip '" + (clip.name || "(unnamed)") + "' has no unmuted notes inside its "
                + "loop brace: draw or record a beat there, or set Rhythm to Steps and draw the pattern in the "
                + "device.");
        }
        if (!out.range) out.range = span;
        out.rhythm = { notes: hits, loop_beats: roundTo(span.end - span.start, 6) };
        out.source = { kind: "midi", clip: clip.name || "(unnamed)", hits: hits.length };
        return out;
    }
    out.rhythm = rhythmFromSteps(s.pattern, s.resolution, s.swing);
    if (!out.rhythm && (RHYTHM_SOURCES[s.rhythmSource] || "clip") === "clip") {
        throw new DeviceError("Rhythm needs a beat: no drum clip is selected and the step pattern is empty. "
            + "Click a MIDI or audio drum clip so it shows in Live's clip view, or draw steps in the Rhythm steps "
            + "editor (a bar's height is its accent).");
    }
    if (!out.rhythm) {
        throw new DeviceError("The step pattern is empty: draw at least one step in the Rhythm steps editor "
            + "(a bar's height is its accent), or set Rhythm to Clip and select a drum clip.");
    }
    if (rangeSource === "arrangement") {
        out.range = arrangementRange(song);
        out.anchor = out.range.start;
    }
    out.source = {
        kind: "steps", steps: soundingSteps(out.rhythm.steps),
        resolution: RHYTHM_RESOLUTION_LABELS[RHYTHM_RESOLUTIONS.indexOf(out.rhythm.steps_per_beat)],
        swing: Math.round(out.rhythm.swing * 100)
    };
    return out;
}

/** The status line's words for what a Rhythm job plays on: rhythmPart's source; "" for other tasks. */
function rhythmStatusText(source) {
    if (!source) return "";
    if (source.kind === "midi") {
        return "rhythm from the " + source.hits + " hit" + (source.hits === 1 ? "" : "s")
            + " of MIDI clip '" + source.clip + "'";
    }
    if (source.kind === "audio") return "rhythm from the onsets of audio clip '" + source.clip + "'";
    return "rhythm from " + source.steps + " of the " + PATTERN_STEPS + " steps at " + source.resolution
        + (source.swing ? ", swing " + source.swing + " %" : "");
}

/**
 * Builds the /ditto/generate job (Live units, docs/PROTOCOL.md "A job in Live units").
 *
 * input = {
 *   task: one of TASKS,
 *   settings: {tags, bars, steps, quality (0|1), seed, variations, rangeSource, curveSource, idea,
 *     rhythmSource, resolution, swing (%), pattern (the step editor's accents)},
 *   song: {tempo, signature_numerator, signature_denominator, sample_rate, loop_start, loop_length, cue_points},
 *   clip: clip values from readClip() or null,
 *   notes: notes of the MIDI clip (get_notes_extended) or null (Match melody, Rhythm),
 *   drawn: breakpoint editor dump as [[beat, dB]...] (relative to the render start),
 *   recorded: Intensity recording as [[song beat, dB]...],
 *   readEnvelope: optional function(clip, positions) -> {status, values, from, why}: the Intensity envelope
 *     of `clip` at clip positions (its own axis) as dB; status "ok" (from "envelope", or "recording": what
 *     Rec recorded while that clip played, `why` the envelope itself could not be read), or why not: "none",
 *     "unsupported", "other_track", "arrangement",
 *   track: the LOM path of the device's track (part of the lineage)
 * }
 * Returns {job, anchor, curve, rhythm}: anchor = {songBeat} is where the result belongs in the Arrangement,
 * when known; curve = {source ("editor", "clip envelope", "clip recording", "recording"), points, clip, note} or
 * null; rhythm = what a Rhythm job plays on (rhythmPart's source) or null. With Curve = Automation the curve
 * is read from the selected clip over the render: the render's beat 0 sits where its output starts on the clip
 * (docs/PROTOCOL.md, time origins; the clip's loop brace or start marker for tasks that do not render from the
 * clip), and a looping clip repeats its envelope.
 * Throws DeviceError with a message in plain words when the set lacks what the task needs.
 */
function buildJob(input) {
    var task = input.task;
    var s = input.settings;
    var song = input.song;
    var clip = input.clip;
    var label = TASK_LABELS[TASKS.indexOf(task)];
    if (!label) throw new DeviceError("Unknown task '" + task + "'.");
    if (!(song.tempo > 0)) throw new DeviceError("Live reported no tempo; is a set open?");
    var bar = beatsPerBar(song.signature_numerator, song.signature_denominator);
    var bars = Math.max(1, Math.round(s.bars));
    var job = {
        task: task,
        name: (clip && clip.name) ? clip.name : task,
        tags: s.tags || "",
        song: {
            tempo: roundTo(song.tempo, 6),
            signature_numerator: song.signature_numerator,
            signature_denominator: song.signature_denominator,
            sample_rate: Math.round(song.sample_rate || 44100)
        },
        length_bars: bars,
        quality: QUALITIES[s.quality] || "final",
        seed: Math.max(0, Math.round(s.seed)),
        variations: Math.max(1, Math.round(s.variations))
    };
    if (s.steps > 0) job.steps = Math.round(s.steps);
    var anchor = null;
    var range = null;
    var lengthBeats = bars * bar;
    // Where the render's beat 0 lies on the selected clip's own axis (for reading its envelope).
    var clipOrigin = clip ? clipFirstPosition(clip) : null;
    // Rhythm: whether it read the selected clip (part of the lineage), and what it plays on (status line).
    var readsRhythmClip = false;
    var rhythmSource = null;

    if (task === "inpaint" || task === "continue" || task === "loop") {
        requireAudioClip(clip, label);
        range = clipRange(clip, RANGE_SOURCES[s.rangeSource] || "clip", song);
        job.clip = jobClip(clip);
        job.range = range;
        var rangeBeats = clipLengthToBeats(range.end - range.start, clip, song.tempo);
        if (task === "inpaint" && rangeBeats >= lengthBeats) {
            throw new DeviceError("The gap (" + roundTo(rangeBeats, 3) + " beats) must be shorter than the rendered length ("
                + lengthBeats + " beats): raise Bars or shorten the loop brace.");
        }
        // One bar of overlap, at most the range and half the rendered length (the daemon's limits).
        var overlap = Math.min(bar, rangeBeats, lengthBeats / 2);
        if (task !== "inpaint") job.overlap_beats = roundTo(overlap, 6);
        clipOrigin = task === "inpaint"
            ? range.start - beatsToClipLength((lengthBeats - rangeBeats) / 2, clip, song.tempo)
            : range.end - beatsToClipLength(overlap, clip, song.tempo);
        if (clip.is_arrangement_clip) {
            // Where the daemon's output starts (its time origins, docs/PROTOCOL.md): inpaint centres the
            // gap in the rendered window; continue and loop start one overlap before the range's end.
            if (task === "inpaint") {
                anchor = clipToSongBeat(range.start, clip, song.tempo) - (lengthBeats - rangeBeats) / 2;
            } else {
                anchor = clipToSongBeat(range.end, clip, song.tempo) - overlap;
            }
            anchor = Math.max(0, anchor);
        }
    } else if (task === "melody") {
        if (!clip || clip.is_audio_clip) {
            throw new DeviceError("Match melody needs a MIDI clip: click a MIDI clip with the melody so it shows in Live's clip view.");
        }
        var clipSpan = clipRange(clip, RANGE_SOURCES[s.rangeSource] || "clip", song);
        clipOrigin = clipSpan.start;
        var notes = notesInRange(input.notes || [], clipSpan.start, clipSpan.end);
        var audible = 0;
        var i;
        for (i = 0; i < notes.length; i += 1) if (!notes[i].mute) audible += 1;
        if (!audible) {
            throw new DeviceError("The MIDI clip has no unmuted notes inside its loop brace: draw a melody there first.");
        }
        // melody is not a clip task for the daemon: its range is in song beats when the clip has a song
        // position (Arrangement), else the clip's own beats; the notes are relative to its start either way.
        if (clip.is_arrangement_clip) {
            range = {
                start: roundTo(clipToSongBeat(clipSpan.start, clip, song.tempo), 6),
                end: roundTo(clipToSongBeat(clipSpan.end, clip, song.tempo), 6),
                unit: "beats"
            };
            anchor = range.start;
        } else {
            range = clipSpan;
        }
        job.clip = jobClip(clip);
        job.range = range;
        job.notes = notes;
    } else if (task === "rhythm") {
        var part = rhythmPart(clip, input.notes, s, song);
        job.name = part.name;
        job.rhythm = part.rhythm;
        if (part.range) job.range = part.range;
        range = part.range;
        anchor = part.anchor;
        if (part.clipOrigin !== null) clipOrigin = part.clipOrigin;
        readsRhythmClip = part.readsClip;
        rhythmSource = part.source;
    } else if (task === "structure") {
        var cues = song.cue_points || [];
        if (cues.length < 2) {
            throw new DeviceError("Structure needs at least two locators in the Arrangement: their names label the sections (e.g. verse, chorus).");
        }
        if ((RANGE_SOURCES[s.rangeSource] || "clip") === "arrangement") {
            range = arrangementRange(song);
        } else {
            range = { start: roundTo(cues[0].time, 6), end: roundTo(cues[0].time + lengthBeats, 6), unit: "beats" };
        }
        job.range = range;
        job.cue_points = [];
        var c;
        for (c = 0; c < cues.length; c += 1) job.cue_points.push({ name: cues[c].name, time: roundTo(cues[c].time, 6) });
        anchor = range.start;
    } else if ((RANGE_SOURCES[s.rangeSource] || "clip") === "arrangement") {
        // generate: the arrangement loop says where the result goes and where the curve starts.
        range = arrangementRange(song);
        job.range = range;
        anchor = range.start;
    }

    var curveSource = CURVE_SOURCES[s.curveSource] || "off";
    var breakpoints = null;
    var curve = null;
    if (curveSource === "drawn") {
        breakpoints = input.drawn || [];
        curve = { source: "editor" };
    } else if (curveSource === "automation") {
        var status = "arrangement";
        if (clip && !clip.is_arrangement_clip && input.readEnvelope) {
            var samples = envelopeSamplePoints(clip, clipOrigin, lengthBeats, bar, song.tempo);
            var positions = [];
            var k;
            for (k = 0; k < samples.length; k += 1) positions.push(samples[k].pos);
            var read = input.readEnvelope(clip, positions);
            status = read.status;
            if (status === "ok") {
                breakpoints = breakpointsFromEnvelope(samples, read.values);
                curve = read.from === "recording"
                    ? { source: "clip recording", clip: clip.name || "(unnamed)", note: envelopeProblem(read.why, clip.name) }
                    : { source: "clip envelope", clip: clip.name || "(unnamed)" };
            }
        }
        if (!curve) {
            var rec = input.recorded || [];
            if (!rec.length) throw new DeviceError(automationMissingText(status, clip ? clip.name : ""));
            // The recording is in song beats; the curve starts where the output starts in the song.
            var origin = anchor !== null ? anchor : Math.floor(rec[0][0] / bar) * bar;
            breakpoints = breakpointsFromRecording(rec, origin, lengthBeats);
            curve = { source: "recording", note: envelopeProblem(status, clip ? clip.name : "") };
        }
    }
    var intensity = intensityObject(breakpoints);
    if (intensity) job.intensity = intensity;
    if (curve) curve.points = breakpoints ? breakpoints.length : 0;
    if (curve && !intensity) curve = null;
    var readsClip = task === "inpaint" || task === "continue" || task === "loop" || task === "melody"
        || readsRhythmClip;
    var place = "track " + (input.track || "") + (readsClip ? " clip " + clipPlace(clip)
        : " range " + (range ? range.start + " " + range.unit : "none"));
    job.lineage = lineageFor(task, job.seed, s.idea, place);
    return {
        job: job, anchor: anchor === null ? null : { songBeat: roundTo(anchor, 6) }, curve: curve, rhythm: rhythmSource
    };
}

/**
 * The OSC message for a job: {address, args}. JSON above MAX_INLINE_JSON_BYTES is written to the
 * inbox instead (`writeFile(path, text)` is given by the caller) and the message carries its path.
 */
function generateMessage(job, inboxFolder, fileName, writeFile) {
    var text = JSON.stringify(job);
    if (utf8Length(text) <= MAX_INLINE_JSON_BYTES) return { address: ADDR_GENERATE, args: [text] };
    if (!inboxFolder) {
        throw new DeviceError("This job is too large for one OSC message (" + utf8Length(text)
            + " bytes). Click Inbox… and choose the daemon's inbox folder so the device can hand it over as a file.");
    }
    var path = inboxFolder.replace(/[\/\\]+$/, "") + "/" + fileName;
    writeFile(path, text);
    return { address: ADDR_GENERATE, args: [path] };
}

/**
 * How to move the last visible warp marker so that the imported file plays at the set's tempo:
 * the file was rendered at `tempo`, so sample time t belongs at beat t * tempo / 60.
 * markers: [{beat_time, sample_time}, ...] as Live reports them (the last one is hidden).
 * Returns {beat_time, distance} for Clip.move_warp_marker, or null when nothing needs to move.
 */
function warpCorrection(markers, tempo) {
    if (!markers || markers.length < 2) return null;
    var visible = markers.length >= 3 ? markers[markers.length - 2] : markers[markers.length - 1];
    if (!(visible.beat_time > 0)) return null;
    var target = visible.sample_time * tempo / 60;
    var distance = target - visible.beat_time;
    if (Math.abs(distance) < 1e-6) return null;
    return { beat_time: visible.beat_time, distance: distance };
}

/**
 * The song beat where a result belongs in the Arrangement, from the `placement` the daemon writes into
 * the WAV's sidecar JSON ({axis, start, length_beats, tempo}; axis "song_beats", "clip_beats",
 * "clip_seconds" or "none"). Clip axes need the source clip (its values when the job was sent) and
 * only map onto the song for an Arrangement clip. Returns `fallback` when the placement says nothing.
 */
function placementSongBeat(placement, source, tempo, fallback) {
    if (!placement || typeof placement.start !== "number") return fallback;
    if (placement.axis === "song_beats") return placement.start;
    if ((placement.axis === "clip_beats" || placement.axis === "clip_seconds") && source && source.is_arrangement_clip) {
        return Math.max(0, clipToSongBeat(placement.start, source, placement.tempo || tempo));
    }
    return fallback;
}

/** The sidecar JSON the daemon writes next to a WAV: same name, .json. */
function sidecarPath(wavPath) {
    return String(wavPath).replace(/\.wav$/i, ".json");
}

/** The first empty clip slot at or after `from`, given has_clip flags; -1 if none. */
function firstEmptySlot(hasClip, from) {
    var i;
    for (i = from || 0; i < hasClip.length; i += 1) if (!hasClip[i]) return i;
    return -1;
}

/**
 * A folder or file path as the daemon needs it. Max's dialogs give Max-style paths ("Macintosh HD:/Users/me")
 * on macOS; /Volumes/<volume> reaches every volume there (the startup volume too, through its link to /).
 * Windows drive paths ("C:/Users/me") and POSIX paths are returned unchanged.
 */
function nativePath(path) {
    var p = String(path);
    if (/^[A-Za-z]:[\/\\]/.test(p)) return p;
    var m = /^([^\/:]+):\/(.*)$/.exec(p);
    if (m) return "/Volumes/" + m[1] + "/" + m[2];
    return p;
}

/** A job id the daemon accepts (1-64 of A-Z a-z 0-9 _ - .): "m4l-" + time in base 36 + "-" + a counter. */
function jobIdFor(timeMs, counter) {
    return "m4l-" + Math.floor(timeMs).toString(36) + "-" + counter;
}

/** The file name of a path, for the status line. */
function baseName(path) {
    var parts = String(path).split(/[\/\\]/);
    return parts[parts.length - 1];
}

/** The folder of a file path. */
function folderOf(path) {
    var p = String(path);
    var i = Math.max(p.lastIndexOf("/"), p.lastIndexOf("\\"));
    return i > 0 ? p.substring(0, i) : p;
}

/**
 * A file:// URL for a local folder or file path (POSIX, or a Windows drive path), for Max's launchbrowser,
 * which hands it to the system: a folder opens in the Finder or the Explorer.
 */
function fileUrl(path) {
    var p = String(path).replace(/\\/g, "/");
    if (/^[A-Za-z]:\//.test(p)) p = "/" + p;
    return "file://" + encodeURI(p).replace(/#/g, "%23").replace(/\?/g, "%3F");
}

/** The status line for a /ditto/progress message. */
function progressText(fraction, step, loss) {
    var pct = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
    var lossText = isFinite(loss) ? (Math.abs(loss) >= 0.01 ? loss.toFixed(3) : loss.toExponential(2)) : "n/a";
    return "Optimizing: " + pct + "% (step " + step + ", loss " + lossText + ")";
}

/** A one-line description of the clip in the clip view, for the status line. */
function clipSummary(clip, song) {
    if (!clip) return "No clip selected";
    var kind = clip.is_audio_clip ? (clip.warping ? "audio, warped" : "audio, unwarped") : "MIDI";
    var where = clip.is_arrangement_clip ? "Arrangement" : "Session";
    var r;
    try {
        r = clipRange(clip, "clip", song);
    } catch (e) {
        r = null;
    }
    var span = r ? (" · range " + roundTo(r.start, 3) + "–" + roundTo(r.end, 3) + " " + r.unit) : "";
    return "Clip: " + (clip.name || "(unnamed)") + " (" + kind + ", " + where + ")" + span;
}

/* ============================== 3. Reading and writing the set (LiveAPI) ============================== */

/** Song values the job needs. Creates LiveAPI objects: call only after live.thisdevice has banged. */
function readSong() {
    var api = new LiveAPI("live_set");
    var song = {
        tempo: atomNumber(api.get("tempo")),
        signature_numerator: atomNumber(api.get("signature_numerator")),
        signature_denominator: atomNumber(api.get("signature_denominator")),
        loop_start: atomNumber(api.get("loop_start")),
        loop_length: atomNumber(api.get("loop_length")),
        cue_points: []
    };
    var count = api.getcount("cue_points");
    var cue = new LiveAPI("live_set");
    var i;
    for (i = 0; i < count; i += 1) {
        cue.goto("live_set cue_points " + i);
        song.cue_points.push({ name: atomString(cue.get("name")), time: atomNumber(cue.get("time")) });
    }
    song.cue_points.sort(function (a, b) { return a.time - b.time; });
    return song;
}

/** The clip in Live's clip view (Song.View.detail_clip) as plain values, or null. */
function readDetailClip() {
    var api = new LiveAPI("live_set view detail_clip");
    if (!api || Number(api.id) === 0) return null;
    return readClip(api);
}

function readClip(api) {
    var clip = {
        id: Number(api.id),
        path: String(api.unquotedpath),
        name: atomString(api.get("name")),
        is_audio_clip: atomNumber(api.get("is_audio_clip")) === 1,
        is_arrangement_clip: atomNumber(api.get("is_arrangement_clip")) === 1,
        looping: atomNumber(api.get("looping")) === 1,
        loop_start: atomNumber(api.get("loop_start")),
        loop_end: atomNumber(api.get("loop_end")),
        start_marker: atomNumber(api.get("start_marker")),
        end_marker: atomNumber(api.get("end_marker")),
        length: atomNumber(api.get("length")),
        start_time: atomNumber(api.get("start_time")) || 0
    };
    if (clip.is_audio_clip) {
        clip.file_path = atomString(api.get("file_path"));
        clip.warping = atomNumber(api.get("warping")) === 1;
        var dict = atomDict(api.get("warp_markers"));
        clip.warp_markers = dict && dict.warp_markers ? dict.warp_markers : [];
    }
    return clip;
}

/** Notes of the MIDI clip with LiveAPI id `clipId` between `start` and `end` beats (all pitches). */
function readNotes(clipId, start, end) {
    var api = new LiveAPI("id " + clipId);
    var dict = atomDict(api.call("get_notes_extended", 0, 128, start, end - start));
    return dict && dict.notes ? dict.notes : [];
}

/** Live's major version (11, 12, ...). */
function liveMajorVersion() {
    var app = new LiveAPI("live_app");
    return atomNumber(app.call("get_major_version"));
}

/** Whether a LiveAPI object has the function `name` (its `info` lists "function <name>"). */
function hasFunction(api, name) {
    return new RegExp("(^|\\n)function " + name + "(\\r?\\n|$)").test(String(api.info));
}

/**
 * The LOM path of the track holding this device ("live_set tracks 0"): up from the device through
 * canonical_parent, past the Chains and Racks of any rack it sits in.
 */
function deviceTrackPath() {
    var api = new LiveAPI("this_device");
    var hops;
    var ids;
    for (hops = 0; hops < 32 && Number(api.id) !== 0; hops += 1) {
        if (api.type === "Track") return String(api.unquotedpath);
        ids = atomIds(api.get("canonical_parent"));
        if (!ids.length) break;
        api = new LiveAPI("id " + ids[0]);
    }
    throw new DeviceError("The device cannot find the track it sits on: put it on an audio track (or in a rack on one).");
}

/** The LiveAPI path of the track the result goes to: this device's track or the selected track. */
function targetTrackPath(place) {
    if (place === "session_selected") {
        var view = new LiveAPI("live_set view");
        var ids = atomIds(view.get("selected_track"));
        if (!ids.length) throw new DeviceError("No track is selected in Live.");
        return new LiveAPI("id " + ids[0]).unquotedpath;
    }
    return deviceTrackPath();
}

/** The track path of a Session clip's path ("live_set tracks 1 clip_slots 0 clip" -> "live_set tracks 1"), or "". */
function sessionClipTrackPath(clipPath) {
    var m = /^(.*) clip_slots \d+ clip$/.exec(String(clipPath));
    return m ? m[1] : "";
}

/** This device's Intensity parameter: {id, min, max}, or null when Live does not list it. */
function intensityParameter() {
    var device = new LiveAPI("this_device");
    var count = device.getcount("parameters");
    var param = new LiveAPI("this_device");
    var i;
    for (i = 0; i < count; i += 1) {
        param.goto("this_device parameters " + i);
        if (INTENSITY_PARAMETER_NAMES.indexOf(atomString(param.get("name"))) >= 0) {
            return { id: Number(param.id), min: atomNumber(param.get("min")), max: atomNumber(param.get("max")) };
        }
    }
    return null;
}

/**
 * The Intensity envelope of the Session clip with id `clipId` at clip positions `positions`, as dB:
 * {status: "ok", values} through Clip.automation_envelope and Envelope.value_at_time; {status: "none"} when
 * the clip has no envelope for Intensity (Live answers id 0); {status: "unsupported"} when this Live does not
 * let a device call automation_envelope (Max's LOM reference does not list it).
 */
function readClipEnvelope(clipId, positions) {
    var clipApi = new LiveAPI("id " + clipId);
    if (!hasFunction(clipApi, "automation_envelope")) return { status: "unsupported" };
    var param = intensityParameter();
    if (!param) return { status: "unsupported" };
    var result = clipApi.call("automation_envelope", "id", param.id);
    var ids = result ? atomIds(result) : [];
    if (!ids.length) return { status: "none" };
    var env = new LiveAPI("id " + ids[0]);
    var values = [];
    var i;
    for (i = 0; i < positions.length; i += 1) {
        values.push(parameterValueToDb(atomNumber(env.call("value_at_time", positions[i])), param.min, param.max));
    }
    return { status: "ok", from: "envelope", values: values };
}

/**
 * buildJob's readEnvelope: the selected clip's Intensity envelope read through the Live API, else what Rec
 * recorded while that clip played (state.clipRecorded), else why neither.
 */
function readIntensityEnvelope(clip, positions) {
    if (clip.is_arrangement_clip) return { status: "arrangement" };
    if (sessionClipTrackPath(clip.path) !== deviceTrackPath()) return { status: "other_track" };
    var read = readClipEnvelope(clip.id, positions);
    if (read.status === "ok") return read;
    var rec = state.clipRecorded;
    if (rec && rec.path === clip.path && rec.points.length) {
        var values = [];
        var i;
        for (i = 0; i < positions.length; i += 1) values.push(valueAtPosition(rec.points, positions[i]));
        return { status: "ok", from: "recording", why: read.status, values: values };
    }
    return read;
}

/** The seconds of an audio clip's file: sample_length / sample_rate, else the end marker of the unwarped clip. */
function clipFileSeconds(clipApi) {
    var frames = atomNumber(clipApi.get("sample_length"));
    var rate = atomNumber(clipApi.get("sample_rate"));
    if (frames > 0 && rate > 0) return frames / rate;
    return atomNumber(clipApi.get("end_marker"));
}

/** The warp markers of a clip as Live reports them: [{beat_time, sample_time}, ...] (the last one is hidden). */
function clipWarpMarkers(clipApi) {
    var dict = atomDict(clipApi.get("warp_markers"));
    return dict && dict.warp_markers ? dict.warp_markers : [];
}

/** Whether a warp marker puts sample time `seconds` at beat `beats`. */
function markerAt(markers, seconds, beats) {
    var i;
    for (i = 0; i < markers.length; i += 1) {
        if (Math.abs(markers[i].sample_time - seconds) < 1e-6 && Math.abs(markers[i].beat_time - beats) < 1e-4) return true;
    }
    return false;
}

/**
 * Warps a new clip to the set's tempo: the file was rendered at `tempo`, so its end (seconds) belongs at beat
 * seconds * tempo / 60. Warping on, the markers Live placed after its first one removed, one warp marker added
 * at (beats, seconds) with add_warp_marker, the clip's end and loop end set there. Should Live refuse the
 * marker, the last visible marker is moved instead (move_warp_marker). Returns "" or a warning for the
 * status line.
 */
function warpToTempo(clipApi, tempo) {
    var seconds = clipFileSeconds(clipApi);
    if (!(seconds > 0) || !(tempo > 0)) return " (could not read the file's length: check its tempo in the clip view)";
    var beats = seconds * tempo / 60;
    clipApi.set("warping", 1);
    var markers = clipWarpMarkers(clipApi);
    var i;
    for (i = markers.length - 2; i >= 1; i -= 1) clipApi.call("remove_warp_marker", markers[i].beat_time);
    clipApi.call("add_warp_marker", { beat_time: beats, sample_time: seconds });
    markers = clipWarpMarkers(clipApi);
    if (!markerAt(markers, seconds, beats)) {
        var fix = warpCorrection(markers, tempo);
        if (fix) clipApi.call("move_warp_marker", fix.beat_time, fix.distance);
        markers = clipWarpMarkers(clipApi);
    }
    var warped = markerAt(markers, seconds, beats);
    if (Math.abs(atomNumber(clipApi.get("end_marker")) - beats) > 1e-6) clipApi.set("end_marker", beats);
    if (Math.abs(atomNumber(clipApi.get("loop_end")) - beats) > 1e-6) clipApi.set("loop_end", beats);
    return warped ? "" : " (Live did not take the warp marker: set the clip's tempo to " + roundTo(tempo, 3) + " BPM by hand)";
}

/**
 * The Arrangement clip of `trackPath` that Track.create_audio_clip made from `path` at `position`: the clip
 * of that file nearest to the position (Live's answer to the call is not relied upon). A LiveAPI or null.
 */
function findArrangementClip(trackPath, path, position) {
    var track = new LiveAPI(trackPath);
    var count = track.getcount("arrangement_clips");
    var api = new LiveAPI(trackPath);
    var best = -1;
    var bestDistance = Infinity;
    var i;
    var d;
    for (i = 0; i < count; i += 1) {
        api.goto(trackPath + " arrangement_clips " + i);
        if (atomNumber(api.get("is_audio_clip")) !== 1) continue;
        if (baseName(atomString(api.get("file_path"))) !== baseName(path)) continue;
        d = Math.abs(atomNumber(api.get("start_time")) - position);
        if (d < bestDistance) { bestDistance = d; best = i; }
    }
    if (best < 0) return null;
    return new LiveAPI(trackPath + " arrangement_clips " + best);
}

/**
 * Puts the WAV at `path` into the set: a new audio clip in the next empty clip slot of the target track, or
 * in the Arrangement at `anchor.songBeat`; reads the clip back from the slot or the track's arrangement
 * clips, then warps it to the set's tempo. Returns a sentence for the status line, or null when this Live
 * has no create_audio_clip (the caller shows where the file is instead). Throws DeviceError when Live
 * cannot take the clip.
 */
function importIntoLive(path, place, anchor, tempo) {
    var trackPath = targetTrackPath(place);
    var track = new LiveAPI(trackPath);
    var trackName = atomString(track.get("name"));
    var clipApi;
    var where;
    if (place === "arrangement_this") {
        if (!hasFunction(track, "create_audio_clip")) return null;
        if (atomNumber(track.get("has_audio_input")) !== 1) throw midiTrackError(trackName);
        var position = anchor ? anchor.songBeat : atomNumber(new LiveAPI("live_set").get("current_song_time"));
        track.call("create_audio_clip", path, position);
        clipApi = findArrangementClip(trackPath, path, position);
        where = trackName + " in the Arrangement at beat " + roundTo(position, 3);
    } else {
        var count = track.getcount("clip_slots");
        var slot = count > 0 ? new LiveAPI(trackPath + " clip_slots 0") : null;
        if (slot && !hasFunction(slot, "create_audio_clip")) return null;
        if (atomNumber(track.get("has_audio_input")) !== 1) throw midiTrackError(trackName);
        var flags = [];
        var i;
        for (i = 0; i < count; i += 1) {
            slot.goto(trackPath + " clip_slots " + i);
            flags.push(atomNumber(slot.get("has_clip")) === 1);
        }
        var index = firstEmptySlot(flags, 0);
        if (index < 0) throw new DeviceError("Track '" + trackName + "' has no empty clip slot: add a scene, then press Generate again.");
        slot.goto(trackPath + " clip_slots " + index);
        slot.call("create_audio_clip", path);
        clipApi = new LiveAPI(trackPath + " clip_slots " + index + " clip");
        where = trackName + ", slot " + (index + 1);
    }
    if (!clipApi || Number(clipApi.id) === 0) {
        throw new DeviceError("Live did not create the clip in " + where + " (see Max's console). The take is at " + path);
    }
    return "Imported " + baseName(path) + " into " + where + warpToTempo(clipApi, tempo);
}

function midiTrackError(trackName) {
    return new DeviceError("Track '" + trackName + "' is a MIDI track and cannot hold audio: put the device on an audio track or choose another Import target.");
}

/* ============================== 4. Max glue ============================== */

autowatch = 0;
inlets = 1;
outlets = 2;
setinletassist(0, "UI values, live.thisdevice bang, OSC replies from udpreceive");
setoutletassist(0, "OSC messages to udpsend");
setoutletassist(1, "UI updates: status, error, progress, connected, domain, dumpcurve, idea, setcurve, settags, "
    + "setpattern");

var settings = {
    task: 0, tags: "", bars: 4, steps: 0, quality: 1, seed: 0, variations: 1,
    curveSource: 0, rangeSource: 0, place: 0, intensityDb: -20, record: 0, idea: 0,
    rhythmSource: 0, resolution: DEFAULT_RESOLUTION, swing: 0, pattern: stepPattern([])
};
var state = {
    ready: false, deleted: false, sampleRate: 44100, inbox: "", connected: false, missedPongs: 0,
    pending: [], jobs: {}, currentJob: "", drawn: [], recorded: [], clipRecorded: null, fileCounter: 0,
    lastSong: null, domain: 0, lastTake: "", importTasks: [], savedText: ""
};
var pingTask = null;
var recordTask = null;
var clipWatcher = null;
var signatureWatchers = [];
var songApi = null;
var recordClipApi = null;

function ui() {
    outlet(1, arrayfromargs(arguments));
}

function sendOsc(address, args) {
    outlet(0, [address].concat(args || []));
}

function showError(message) {
    ui("error", message);
}

function clearError() {
    ui("error", " ");
}

/** live.thisdevice has banged: the Live API is ready. */
function bang() {
    if (state.ready || state.deleted) return;
    state.ready = true;
    songApi = new LiveAPI("live_set");
    clipWatcher = new LiveAPI(onDetailClip, "live_set view");
    clipWatcher.property = "detail_clip";
    // The editor's x axis is the render in beats: it follows Bars and the time signature.
    signatureWatchers = [new LiveAPI(onSignature, "live_set"), new LiveAPI(onSignature, "live_set")];
    signatureWatchers[0].property = "signature_numerator";
    signatureWatchers[1].property = "signature_denominator";
    pingTask = new Task(pingTick, this);
    pingTask.interval = PING_INTERVAL_MS;
    pingTask.repeat(-1, PING_INTERVAL_MS);
    recordTask = new Task(recordTick, this);
    recordTask.interval = RECORD_INTERVAL_MS;
    // Live restores the Rec parameter before the device is ready: start the recorder now if it is on.
    if (settings.record) record(1);
    updateDomain();
    ui("connected", 0);
    ui("progress", 0);
    clearError();
    ui("dumpcurve");
    pingTick();
}

/**
 * The device is being removed (Max calls notifydeleted on the js object): every Task stops and every
 * observer lets go, so nothing runs or touches the set afterwards.
 */
function notifydeleted() {
    var i;
    state.deleted = true;
    if (pingTask) pingTask.cancel();
    if (recordTask) recordTask.cancel();
    for (i = 0; i < state.importTasks.length; i += 1) state.importTasks[i].cancel();
    state.importTasks = [];
    if (clipWatcher) clipWatcher.property = "";
    for (i = 0; i < signatureWatchers.length; i += 1) signatureWatchers[i].property = "";
    signatureWatchers = [];
}

/** Observer of Song.View.detail_clip: shows what the device will read. Never writes to the set. */
function onDetailClip(args) {
    if (!state.ready || args[0] !== "detail_clip") return;
    var ids = atomIds(args.slice(1));
    try {
        var song = { tempo: atomNumber(songApi.get("tempo")) };
        var clip = ids.length ? readClip(new LiveAPI("id " + ids[0])) : null;
        if (!state.currentJob) ui("status", clipSummary(clip, song));
    } catch (e) {
        post("ditto: " + e.message + "\n");
    }
}

/** Observer of the Song's time signature: the editor's domain follows it. */
function onSignature(args) {
    if (!state.ready || state.deleted) return;
    if (args[0] !== "signature_numerator" && args[0] !== "signature_denominator") return;
    updateDomain();
}

function pingTick() {
    if (state.missedPongs >= MISSED_PONGS_OFFLINE && state.connected !== false) {
        state.connected = false;
        ui("connected", 0);
    }
    if (state.missedPongs >= MISSED_PONGS_OFFLINE && !state.currentJob) {
        ui("status", "No answer from the daemon on port " + DEFAULT_PORT + ": start it with 'ditto-bridge serve'.");
    }
    state.missedPongs += 1;
    sendOsc(ADDR_PING, [DEFAULT_REPLY_PORT]); // the daemon answers this device on its reply port
}

/**
 * Every RECORD_INTERVAL_MS while Rec is on and the transport plays: Intensity against song time, and, while
 * the Session clip that was in the clip view when Rec was armed plays, against that clip's own position (so
 * its envelope can be sent as it would be read).
 */
function recordTick() {
    if (!songApi) return;
    if (atomNumber(songApi.get("is_playing")) !== 1) return;
    recordIntensitySample(state.recorded, atomNumber(songApi.get("current_song_time")), settings.intensityDb);
    if (recordClipApi && state.clipRecorded && atomNumber(recordClipApi.get("is_playing")) === 1) {
        recordIntensitySample(state.clipRecorded.points, atomNumber(recordClipApi.get("playing_position")), settings.intensityDb);
    }
}

/** The song's time signature as Live reports it, else the last one read, else 4/4. */
function currentSignature() {
    if (songApi) {
        return {
            signature_numerator: atomNumber(songApi.get("signature_numerator")),
            signature_denominator: atomNumber(songApi.get("signature_denominator"))
        };
    }
    return state.lastSong || { signature_numerator: 4, signature_denominator: 4 };
}

/**
 * Sets the editor's x range to the render's length in beats. When it changes, the drawn curve keeps its place
 * in the render (as the editor's `setdomain` keeps its points), and the editor is asked for its points again
 * so the device never sends a curve laid out for another length.
 */
function updateDomain() {
    var sig = currentSignature();
    var domain = Math.max(1, settings.bars) * beatsPerBar(sig.signature_numerator, sig.signature_denominator);
    if (!(domain > 0)) return;
    var previous = state.domain;
    state.domain = domain;
    ui("domain", domain);
    if (!previous && state.drawn.length) showCurve(state.drawn); // a curve restored before the length was known
    if (previous && previous !== domain) {
        if (state.drawn.length) {
            state.drawn = rescaleBreakpoints(state.drawn, previous, domain);
            notifyState();
        }
        ui("dumpcurve");
    }
}

/* UI inputs (one message per control, see src/DittoBridge.maxpat) */

function task(i) { settings.task = Math.max(0, Math.min(TASKS.length - 1, Math.round(i))); }
/** The tags / prompt box: the whole text, commas and semicolons included; an emptied box clears it. */
function tags() { settings.tags = promptText(arrayfromargs(arguments)); notifyState(); }
function bars(n) { settings.bars = Math.max(1, Math.round(n)); updateDomain(); }
function steps(n) { settings.steps = Math.max(0, Math.round(n)); }
function quality(i) { settings.quality = Math.round(i) === 0 ? 0 : 1; }
function seed(n) { settings.seed = Math.max(0, Math.round(n)); }
function variations(n) { settings.variations = Math.max(1, Math.round(n)); }
function curve(i) { settings.curveSource = Math.max(0, Math.min(CURVE_SOURCES.length - 1, Math.round(i))); }
function range(i) { settings.rangeSource = Math.round(i) === 1 ? 1 : 0; }
function place(i) { settings.place = Math.max(0, Math.min(PLACES.length - 1, Math.round(i))); }
function samplerate(sr) { if (sr > 0) state.sampleRate = sr; }
/** The Idea number: part of the lineage, so the producer can also dial back to an earlier idea. */
function idea(n) { settings.idea = Math.max(0, Math.min(MAX_IDEA, Math.round(n))); }

/** Rhythm source: 0 Clip (the selected drum clip, else the steps), 1 Steps. */
function rhythmsource(i) { settings.rhythmSource = Math.round(i) === 1 ? 1 : 0; }
/** The step editor's resolution: an index of RHYTHM_RESOLUTION_LABELS (1/4 ... 1/32). */
function resolution(i) { settings.resolution = Math.max(0, Math.min(RHYTHM_RESOLUTIONS.length - 1, Math.round(i))); }
/** The Swing dial (%): every second step is delayed by this share of a step. */
function swing(percent) { settings.swing = Math.max(0, Math.min(MAX_SWING_PERCENT, Number(percent) || 0)); }

/** The step editor (a multislider of PATTERN_STEPS bars, 0-1): its list of accents whenever it is drawn. */
function pattern() {
    settings.pattern = stepPattern(arrayfromargs(arguments));
    notifyState();
}

/** Fresh button: the next Generate starts a new idea (a new lineage) from seeded noise; later ones continue it. */
function fresh(v) {
    if (v !== undefined && Number(v) === 0) return;
    settings.idea = settings.idea >= MAX_IDEA ? 0 : settings.idea + 1;
    ui("idea", settings.idea);
    ui("status", "Fresh start: the next Generate begins idea " + settings.idea + " from new noise.");
}

function inbox() {
    state.inbox = nativePath(arrayfromargs(arguments).join(" "));
    ui("status", "Inbox: " + state.inbox);
    notifyState();
}

/** The Intensity parameter (dB): its automation plays through here. */
function intensity(db) { settings.intensityDb = clampDb(Number(db)); }

/**
 * Rec toggle: on starts a new Intensity recording (sampled while the transport plays); when the clip view
 * shows a Session clip of this track, that clip's pass is recorded on its own axis too.
 */
function record(on) {
    settings.record = Number(on) ? 1 : 0;
    if (!recordTask) return;
    if (settings.record) {
        state.recorded = [];
        startClipRecording();
        recordTask.repeat(-1);
        ui("status", "Recording Intensity: play the set" + (state.clipRecorded ? " or clip '" + state.clipRecorded.name + "'" : "") + ".");
    } else {
        recordTask.cancel();
        state.recorded = simplifyBreakpoints(state.recorded, RECORD_TOLERANCE_DB);
        if (state.clipRecorded) state.clipRecorded.points = simplifyBreakpoints(state.clipRecorded.points, RECORD_TOLERANCE_DB);
        recordClipApi = null;
        var clipText = state.clipRecorded && state.clipRecorded.points.length
            ? " (" + state.clipRecorded.points.length + " along clip '" + state.clipRecorded.name + "')" : "";
        ui("status", "Intensity recorded: " + state.recorded.length + " breakpoints" + clipText + ".");
        notifyState();
    }
}

/** Prepares the recording of the Session clip in the clip view on its own axis, when it is on this device's track. */
function startClipRecording() {
    state.clipRecorded = null;
    recordClipApi = null;
    try {
        var clip = readDetailClip();
        if (clip && !clip.is_arrangement_clip && sessionClipTrackPath(clip.path) === deviceTrackPath()) {
            state.clipRecorded = { path: clip.path, name: clip.name || "(unnamed)", points: [] };
            recordClipApi = new LiveAPI("id " + clip.id);
        }
    } catch (e) {
        post("ditto: " + e.message + "\n");
    }
}

/** The breakpoint editor's listdump: x y pairs, x in beats from the render start, y in dB. */
function breakpoints() {
    state.drawn = breakpointsFromFunctionDump(arrayfromargs(arguments));
    notifyState();
}

/* State saved with the Live set. The js object is a Stored Only parameter of type blob (parameter_enable on
 * the js box): Live asks getvalueof() when the set is saved and hands the value back to setvalueof() when it
 * is loaded. The Task, Quality, Bars, Steps, Seed, Takes, Idea, Range, Import, Curve, Intensity, Rhythm,
 * resolution and Swing controls are parameters of their own and are saved by Live. */

/**
 * What the device saves with the set: the prompt, the drawn and recorded curves (the set's and a clip's), the
 * inbox folder and the step pattern.
 */
function savedState() {
    return {
        v: STATE_VERSION,
        tags: settings.tags,
        drawn: state.drawn,
        recorded: state.recorded.slice(-MAX_SAVED_POINTS),
        clip_recorded: state.clipRecorded && state.clipRecorded.points.length ? {
            path: state.clipRecorded.path, name: state.clipRecorded.name, points: state.clipRecorded.points.slice(-MAX_SAVED_POINTS)
        } : null,
        inbox: state.inbox,
        pattern: settings.pattern
    };
}

/** pattr / Live: the device's state as one symbol of JSON. */
function getvalueof() {
    state.savedText = JSON.stringify(savedState());
    return state.savedText;
}

/** pattr / Live: restores what getvalueof returned (one symbol; atoms split at spaces are joined again). */
function setvalueof() {
    var text = arrayfromargs(arguments).join(" ");
    var saved = atomDict(text);
    if (!saved || typeof saved !== "object") {
        if (text && text !== "0") post("ditto: the saved state could not be read and was ignored\n");
        return;
    }
    settings.tags = typeof saved.tags === "string" ? saved.tags : "";
    state.drawn = pointList(saved.drawn);
    state.recorded = pointList(saved.recorded);
    // A clip recording names its clip by its place in the set ("live_set tracks 0 clip_slots 2 clip").
    var clipRec = saved.clip_recorded;
    state.clipRecorded = clipRec && typeof clipRec.path === "string" && pointList(clipRec.points).length
        ? { path: clipRec.path, name: String(clipRec.name || "(unnamed)"), points: pointList(clipRec.points) } : null;
    state.inbox = typeof saved.inbox === "string" ? saved.inbox : "";
    settings.pattern = stepPattern(saved.pattern instanceof Array ? saved.pattern : []);
    state.savedText = JSON.stringify(savedState());
    ui("settags", settings.tags);
    ui.apply(this, ["setpattern"].concat(settings.pattern));
    if (state.domain) ui("domain", state.domain); // the editor's setdomain rescales the points it holds: first
    showCurve(state.drawn);
}

/** Puts breakpoints [[beat, dB], ...] into the editor: "setcurve x1 y1 x2 y2 ..." (no pairs: an empty editor). */
function showCurve(points) {
    var flat = [];
    var i;
    for (i = 0; i < points.length; i += 1) flat.push(points[i][0], points[i][1]);
    if (!flat.length) ui("setcurve");
    else ui.apply(this, ["setcurve"].concat(flat));
}

/** [[x, y], ...] of finite numbers from saved JSON (anything else is dropped). */
function pointList(value) {
    var out = [];
    var i;
    if (!(value instanceof Array)) return out;
    for (i = 0; i < value.length; i += 1) {
        if (value[i] instanceof Array && isFinite(value[i][0]) && isFinite(value[i][1])) out.push([Number(value[i][0]), Number(value[i][1])]);
    }
    return out;
}

/** Tells Live (through pattr's notifyclients) that the saved state changed, so saving the set keeps it. */
function notifyState() {
    var text = JSON.stringify(savedState());
    if (text === state.savedText) return;
    state.savedText = text;
    if (typeof notifyclients === "function") notifyclients();
}

/** Generate button. */
function generate(v) {
    if (v !== undefined && Number(v) === 0) return;
    if (!state.ready) {
        showError("The device is still loading: try again in a moment.");
        return;
    }
    try {
        var taskName = TASKS[settings.task];
        var song = readSong();
        song.sample_rate = state.sampleRate;
        state.lastSong = song;
        var clip = readDetailClip();
        var notes = null;
        var readsNotes = taskName === "melody"
            || (taskName === "rhythm" && RHYTHM_SOURCES[settings.rhythmSource] === "clip");
        if (readsNotes && clip && !clip.is_audio_clip) {
            var r = clipRange(clip, RANGE_SOURCES[settings.rangeSource], song);
            notes = readNotes(clip.id, r.start, r.end);
        }
        var built = buildJob({
            task: taskName, settings: settings, song: song, clip: clip, notes: notes,
            drawn: state.drawn, recorded: state.recorded, readEnvelope: readIntensityEnvelope, track: deviceTrackPath()
        });
        state.fileCounter += 1;
        // The job names itself, so replies can be matched to it (docs/PROTOCOL.md, field `id`).
        var jobId = jobIdFor(new Date().getTime(), state.fileCounter);
        built.job.id = jobId;
        var message = generateMessage(built.job, state.inbox, jobId + ".json", writeTextFile);
        state.jobs[jobId] = {
            task: taskName, tempo: song.tempo, anchor: built.anchor, place: PLACES[settings.place],
            source: clip ? {
                is_arrangement_clip: clip.is_arrangement_clip, is_audio_clip: clip.is_audio_clip,
                warping: clip.warping, looping: clip.looping, loop_start: clip.loop_start,
                start_marker: clip.start_marker, start_time: clip.start_time
            } : null,
            lengthBeats: built.job.length_bars * beatsPerBar(song.signature_numerator, song.signature_denominator),
            imported: 0
        };
        state.pending.push(jobId);
        sendOsc(message.address, message.args);
        clearError();
        ui("progress", 0);
        var about = [];
        if (built.rhythm) about.push(rhythmStatusText(built.rhythm));
        if (built.curve) about.push(curveStatusText(built.curve));
        ui("status", "Sent " + TASK_LABELS[settings.task] + " to the daemon"
            + (about.length ? " (" + about.join("; ") + ")" : "") + ": waiting for it to accept.");
    } catch (e) {
        if (e instanceof DeviceError) showError(e.message);
        else {
            showError("Unexpected error: " + e.message);
            post("ditto: " + e + "\n");
        }
    }
}

/** Cancel button. */
function cancel(v) {
    if (v !== undefined && Number(v) === 0) return;
    if (!state.currentJob) {
        ui("status", "Nothing to cancel.");
        return;
    }
    sendOsc(ADDR_CANCEL, [state.currentJob]);
    ui("status", "Cancelling " + state.currentJob + "…");
}

/**
 * Show button: opens the folder holding the latest take in the Finder or the Explorer (Max's launchbrowser
 * with a file:// URL), so it can be dragged onto a track.
 */
function reveal(v) {
    if (v !== undefined && Number(v) === 0) return;
    if (!state.lastTake) {
        ui("status", "No take yet: its folder opens here once the daemon has sent one.");
        return;
    }
    var folder = folderOf(state.lastTake);
    messnamed("max", "launchbrowser", fileUrl(folder));
    ui("status", "Opened " + folder + ": drag " + baseName(state.lastTake) + " onto a track.");
}

/** Writes a job file into the inbox with Max's File object. */
function writeTextFile(path, text) {
    var f = new File(path, "write", "TEXT");
    if (!f.isopen) throw new DeviceError("Cannot write to the inbox folder " + path + ": choose it again with Inbox….");
    var i;
    for (i = 0; i < text.length; i += 4096) f.writestring(text.substring(i, i + 4096));
    f.eof = f.position;
    f.close();
}

/** Reads a text file with Max's File object; "" when it cannot be opened. */
function readTextFile(path) {
    var f = new File(path, "read", "TEXT");
    if (!f.isopen) return "";
    var out = "";
    var chunk;
    while (f.position < f.eof) {
        chunk = f.readstring(4096);
        if (!chunk) break;
        out += chunk;
    }
    f.close();
    return out;
}

function removePending(id) {
    var i = state.pending.indexOf(id);
    if (i >= 0) state.pending.splice(i, 1);
}

/** Replies from udpreceive arrive as messages whose selector is the OSC address. */
function anything() {
    var args = arrayfromargs(arguments);
    handleReply(messagename, args);
}

function handleReply(address, args) {
    var id = args.length ? String(args[0]) : "";
    var ctx;
    if (address === ADDR_PONG) {
        state.missedPongs = 0;
        if (!state.connected) {
            state.connected = true;
            ui("connected", 1);
            if (!state.currentJob) ui("status", "Connected: ditto-bridge " + args[0] + ", model " + args[1] + " on " + args[2] + ".");
        }
    } else if (address === ADDR_ACCEPTED) {
        removePending(id);
        if (!state.jobs[id]) state.jobs[id] = { task: "", tempo: 120, anchor: null, place: PLACES[settings.place], imported: 0 };
        state.currentJob = id;
        ui("status", "Job " + id + " accepted: queued.");
    } else if (address === ADDR_PROGRESS) {
        if (id !== state.currentJob && !state.jobs[id]) return;
        ui("progress", Math.max(0, Math.min(1, Number(args[1]))));
        ui("status", progressText(Number(args[1]), Number(args[2]), Number(args[3])));
    } else if (address === ADDR_DONE) {
        ctx = state.jobs[id] || { tempo: 120, anchor: null, place: PLACES[settings.place], imported: 0 };
        var path = String(args[1]);
        var summary = args.length > 2 ? String(args[2]) : "";
        ui("progress", 1);
        scheduleImport(id, ctx, path, summary);
    } else if (address === ADDR_CANCELLED) {
        if (id === state.currentJob) state.currentJob = "";
        ui("progress", 0);
        ui("status", "Job " + id + " cancelled.");
    } else if (address === ADDR_ERROR) {
        if (id && id === state.currentJob) state.currentJob = "";
        if (id) removePending(id);
        else if (state.pending.length) state.pending.shift();
        showError(args.length > 1 ? String(args[1]) : "The daemon reported an error.");
    }
}

/**
 * Writes to the set are deferred to a Task, never made from inside a notification. The Task is kept in
 * state.importTasks until it has run, so notifydeleted can stop it.
 */
function scheduleImport(id, ctx, path, summary) {
    if (state.deleted) return;
    var t = new Task(function () {
        var i = state.importTasks.indexOf(t);
        if (i >= 0) state.importTasks.splice(i, 1);
        finishImport(id, ctx, path, summary);
    }, this);
    state.importTasks.push(t);
    t.schedule(0);
}

function finishImport(id, ctx, path, summary) {
    if (id === state.currentJob) state.currentJob = "";
    state.lastTake = path;
    try {
        var sidecar = atomDict(readTextFile(sidecarPath(path)));
        if (ctx.place === "arrangement_this" && !ctx.placed) {
            // The daemon's placement (sidecar) is exact; the device's own estimate is the fallback.
            var placement = sidecar && sidecar.ditto_bridge ? sidecar.ditto_bridge.placement : null;
            var fallback = ctx.anchor ? ctx.anchor.songBeat : atomNumber(new LiveAPI("live_set").get("current_song_time"));
            ctx.anchor = { songBeat: roundTo(placementSongBeat(placement, ctx.source, ctx.tempo, fallback), 6) };
            ctx.placed = true;
        }
        // Further takes of one job go after the previous one in the Arrangement (next slots in Session).
        var anchor = ctx.anchor ? { songBeat: ctx.anchor.songBeat + ctx.imported * (ctx.lengthBeats || 0) } : null;
        var done = importIntoLive(path, ctx.place, anchor, ctx.tempo);
        if (done === null) {
            // No create_audio_clip in this Live (Live 11, or Live 12 before the update that added it).
            var major = liveMajorVersion();
            var who = major < 12 ? "Live " + major : "This version of Live";
            ui("status", doneStatusText("Saved " + path + warmStartText(sidecar) + ". " + who
                + " cannot create clips from a device: press Show to open its folder and drag it onto a track.", summary));
            post("ditto: result at " + path + "\n");
            return;
        }
        ctx.imported += 1;
        ui("status", doneStatusText(done + warmStartText(sidecar), summary));
        clearError();
    } catch (e) {
        if (e instanceof DeviceError) showError(e.message);
        else {
            showError("Could not import " + baseName(path) + ": " + e.message);
            post("ditto: " + e + "\n");
        }
    }
}
