'use strict';
/**
 * A Live Object Model simulator and a LiveAPI-compatible shim, written from Cycling '74's
 * "Live Object Model" reference (Live 12.1), the "LiveAPI Object" page of the Max JavaScript
 * reference, and, where the Max reference is silent, the docstrings of Live's own Python API
 * (`Live.Clip.Clip`, `Live.Envelope.Envelope`). It stands in for Ableton Live only; nothing else in the
 * tests is simulated.
 *
 * Covered (everything else is absent and answers like Live does for an unknown name):
 *
 *   Application   get_major_version(), get_minor_version(), get_bugfix_version()       path: live_app
 *   Song          tempo, signature_numerator, signature_denominator (both observable), loop,
 *                 loop_start, loop_length, current_song_time, is_playing; children
 *                 cue_points, tracks, view                                              path: live_set
 *   Song.View     detail_clip (get/set), selected_track (get/set)                       path: live_set view
 *   Track         name, has_audio_input, has_midi_input, is_frozen; children clip_slots,
 *                 arrangement_clips, devices; create_audio_clip(file_path, position)
 *                 (from Live 12, see `audioClipApi`)                                    live_set tracks N
 *   ClipSlot      has_clip; child clip; create_audio_clip(path) (from Live 12)          ... clip_slots M
 *   Clip          name, is_audio_clip, is_midi_clip, is_arrangement_clip, file_path
 *                 (audio only), warping (audio only), warp_markers (audio only, a dict),
 *                 sample_length and sample_rate (audio only), looping, loop_start,
 *                 loop_end, start_marker, end_marker, length, start_time, end_time,
 *                 is_playing, playing_position; get_notes_extended(from_pitch, pitch_span,
 *                 from_time, time_span) (MIDI only, returns the dict as JSON);
 *                 move_warp_marker(beat_time, beat_time_distance), add_warp_marker(dict),
 *                 remove_warp_marker(beat_time) (audio only); automation_envelope(
 *                 device_parameter) only where `clipEnvelopes` is on (see below)         ... clip
 *   Envelope      value_at_time(time) (reached through Clip.automation_envelope)
 *   CuePoint      name, time; jump()                                                    live_set cue_points N
 *   Device        name; child canonical_parent (a Track, or a Chain inside a rack),
 *                 parameters (DeviceParameter list: "Device On" first)                  this_device
 *   RackDevice    name; children canonical_parent, chains, parameters                   ... devices K
 *   Chain         name; children canonical_parent (its RackDevice), devices             ... chains C
 *   DeviceParameter name, original_name, value, min, max, is_quantized                 ... parameters P
 *
 * LiveAPI shim (as the Max `js` object's LiveAPI behaves):
 *   new LiveAPI([callback], [path or "id N"]); properties id, path (quoted), unquotedpath, type,
 *   children, info, mode, property (setting it observes that property and calls back with
 *   [name, value...]; setting it to "" stops observing), proptype; methods get(name) -> Array
 *   (children as ["id", n, ...], a dict as a one-element array holding its JSON), getstring(name),
 *   set(name, value...), call(name, args...) (an object argument is passed as the two atoms "id", n;
 *   a dict argument as a JavaScript object, as the LOM reference shows for add_new_notes), getcount(child),
 *   goto(path).
 *
 * Live behaviours the simulator enforces because the device must respect them:
 *   - LiveAPI objects cannot be made before `live.thisdevice` has banged (the harness calls
 *     `sim.markDeviceReady()` at that moment); until then Max prints an error and the object has id 0.
 *   - Writing to the set from inside an observer callback fails with Live's message
 *     "Changes cannot be triggered by notifications. You will need to defer your response."
 *   - create_audio_clip exists only from Live 12 (`audioClipApi`, default: the major version is 12 or
 *     more; the call arrived in a 12.0 update, so `audioClipApi: false` models an early Live 12); it fails
 *     on MIDI tracks, frozen tracks, occupied slots and files that do not exist. Live's Python API declares
 *     that it returns the Clip, but the Max LOM reference documents no return value for a device: by default
 *     nothing comes back, and the device must read the new clip back from the slot or from
 *     `arrangement_clips` (`createReturnsId: true` returns ["id", n] instead).
 *   - `info` lists the functions an object has, so a script can check that a function exists.
 *   - Errors go to `sim.console` (Max's console); they do not throw into the caller, as in Max.
 *
 * Clip envelopes (`clipEnvelopes`, default off). Live's Python API documents
 * `Clip.automation_envelope(parameter)`: "Return the envelope for the given parameter. Returns None if the
 * envelope doesn't exist. Returns None for Arrangement clips. Returns None for parameters from a different
 * track", and `Envelope.value_at_time(time)`: "Returns the parameter value at the specified time". The Max
 * LOM reference does not list `automation_envelope`, and a listing of Live 12.4.3's Max for Live exposure
 * table (LomTypes) does not include it either, so by default the simulated Clip has no such function (its
 * `info` does not list it and a call fails like any unknown function). `clipEnvelopes: true` models a Live
 * that exposes it, with the documented answers (a None is "id 0" in Max). Envelope times are taken on the
 * clip's own axis (beats; seconds for an unwarped audio clip, like its markers): an assumption, the
 * docstrings do not say.
 *
 * Simulator assumptions (not from the documentation): an audio clip made by create_audio_clip starts
 * unwarped; turning `warping` on places a start marker and an end marker as if the file were at
 * `autoWarpBpm` (default 120) beats per minute, the way Live's tempo guess may be off; `warp_markers` then
 * reports the real markers plus one more 1/32 beat after the last at the same tempo (the hidden marker
 * Live reports at the end). add_warp_marker succeeds only "if possible" (its docstring): when both its
 * times lie strictly between the neighbouring markers' and sample_time lies within the sample.
 */

const fs = require('fs');

const NOTIFICATION_ERROR =
  'Changes cannot be triggered by notifications. You will need to defer your response.';

class LomError extends Error {}

/**
 * Reads the RIFF header of a PCM/float WAV: {seconds, sampleRate, frames}, or null when the file is not a WAV.
 */
function wavInfo(filePath) {
  const buf = fs.readFileSync(filePath);
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    return null;
  }
  let offset = 12;
  let byteRate = null;
  let sampleRate = null;
  let blockAlign = null;
  let dataBytes = null;
  while (offset + 8 <= buf.length) {
    const tag = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    if (tag === 'fmt ') {
      sampleRate = buf.readUInt32LE(offset + 12);
      byteRate = buf.readUInt32LE(offset + 16);
      blockAlign = buf.readUInt16LE(offset + 20);
    }
    if (tag === 'data') dataBytes = Math.min(size, buf.length - offset - 8);
    offset += 8 + size + (size % 2);
  }
  if (!byteRate || dataBytes === null) return null;
  return { seconds: dataBytes / byteRate, sampleRate, frames: blockAlign ? Math.floor(dataBytes / blockAlign) : null };
}

/** Seconds of a WAV file, or null when it is not a WAV. */
function wavDurationSeconds(filePath) {
  const info = wavInfo(filePath);
  return info ? info.seconds : null;
}

/** One object of the Live Object Model: a class name, properties, children and functions. */
class LomObject {
  constructor(sim, type, fields) {
    this.sim = sim;
    this.type = type;
    this.id = sim.nextId++;
    this.parent = null;
    this.props = Object.assign({}, fields || {});
    this.observers = [];
    sim.byId.set(this.id, this);
  }

  /** Property names readable by get; children are listed separately. */
  propertyNames() { return Object.keys(this.spec().props); }

  childNames() { return Object.keys(this.spec().children); }

  functionNames() { return Object.keys(this.spec().functions); }

  spec() { return SPECS[this.type](this); }

  setProp(name, value) {
    this.props[name] = value;
    this.notify(name);
  }

  notify(name) {
    for (const api of this.observers.slice()) {
      if (api._property === name) api._fire();
    }
  }

  canonicalPath() { return this.spec().path(); }
}

/* ---------------------------------------------------------------------------------------------
 * Class specifications. Each gives: props {name: {get, set?}}, children {name: {get, list}},
 * functions {name: fn(args)}, path(). Types follow the LOM page: bool values are 0/1.
 * ------------------------------------------------------------------------------------------- */

function bool(v) { return v ? 1 : 0; }

function requireAudio(clip, what) {
  if (!clip.props.is_audio_clip) throw new LomError(`${what}: only available for audio clips`);
}

function requireMidi(clip, what) {
  if (clip.props.is_audio_clip) throw new LomError(`${what}: only available for MIDI clips`);
}

function numberProp(obj, name, opts) {
  const o = opts || {};
  return {
    get: () => obj.props[name],
    set: o.readOnly ? undefined : (v) => {
      const x = Number(v);
      if (!isFinite(x)) throw new LomError(`${name}: invalid value`);
      if (o.min !== undefined && x < o.min) throw new LomError(`${name}: value out of range`);
      if (o.max !== undefined && x > o.max) throw new LomError(`${name}: value out of range`);
      obj.setProp(name, o.integer ? Math.round(x) : x);
    },
  };
}

const SPECS = {
  Application(app) {
    const v = app.sim.liveVersion;
    return {
      path: () => 'live_app',
      props: {},
      children: {},
      functions: {
        get_major_version: () => v[0],
        get_minor_version: () => v[1],
        get_bugfix_version: () => v[2],
      },
    };
  },

  Song(song) {
    return {
      path: () => 'live_set',
      props: {
        tempo: numberProp(song, 'tempo', { min: 20, max: 999 }),
        signature_numerator: numberProp(song, 'signature_numerator', { integer: true, min: 1, max: 99 }),
        signature_denominator: numberProp(song, 'signature_denominator', { integer: true, min: 1, max: 16 }),
        loop: { get: () => bool(song.props.loop), set: (v) => song.setProp('loop', bool(Number(v))) },
        loop_start: numberProp(song, 'loop_start', { min: 0 }),
        loop_length: numberProp(song, 'loop_length', { min: 0 }),
        current_song_time: numberProp(song, 'current_song_time', { min: 0 }),
        is_playing: { get: () => bool(song.props.is_playing), set: (v) => song.setProp('is_playing', bool(Number(v))) },
      },
      children: {
        cue_points: { list: true, get: () => song.sim.cuePoints.slice().sort((a, b) => a.props.time - b.props.time) },
        tracks: { list: true, get: () => song.sim.tracks },
        view: { get: () => song.sim.songView },
      },
      functions: {},
    };
  },

  'Song.View'(view) {
    const sim = view.sim;
    return {
      path: () => 'live_set view',
      props: {},
      children: {
        detail_clip: {
          get: () => sim.detailClip,
          set: (obj) => {
            if (obj && obj.type !== 'Clip') throw new LomError('detail_clip: not a clip');
            sim.detailClip = obj;
            view.notify('detail_clip');
          },
        },
        selected_track: {
          get: () => sim.selectedTrack,
          set: (obj) => {
            if (!obj || obj.type !== 'Track') throw new LomError('selected_track: not a track');
            sim.selectedTrack = obj;
            view.notify('selected_track');
          },
        },
      },
      functions: {},
    };
  },

  Track(track) {
    const sim = track.sim;
    const index = () => sim.tracks.indexOf(track);
    const functions = {};
    if (sim.audioClipApi) {
      functions.create_audio_clip = (args) => {
        const [filePath, position] = args;
        if (!track.props.has_audio_input) throw new LomError('create_audio_clip: track is not an audio track');
        if (track.props.is_frozen) throw new LomError('create_audio_clip: track is frozen');
        const pos = Number(position);
        if (!(pos >= 0 && pos <= 1576800)) throw new LomError('create_audio_clip: position out of range');
        const clip = sim.makeAudioClipFromFile(String(filePath), { is_arrangement_clip: 1, start_time: pos });
        clip.parent = track;
        track.arrangementClips.push(clip);
        sim.writes.push({ fn: 'Track.create_audio_clip', path: track.canonicalPath(), file_path: String(filePath), position: pos });
        return sim.createReturnsId ? ['id', clip.id] : undefined;
      };
    }
    return {
      path: () => `live_set tracks ${index()}`,
      props: {
        name: { get: () => track.props.name, set: (v) => track.setProp('name', String(v)) },
        has_audio_input: { get: () => bool(track.props.has_audio_input) },
        has_midi_input: { get: () => bool(!track.props.has_audio_input) },
        is_frozen: { get: () => bool(track.props.is_frozen) },
      },
      children: {
        clip_slots: { list: true, get: () => track.clipSlots },
        arrangement_clips: { list: true, get: () => track.arrangementClips },
        devices: { list: true, get: () => track.devices },
      },
      functions,
    };
  },

  ClipSlot(slot) {
    const sim = slot.sim;
    const functions = {};
    if (sim.audioClipApi) {
      functions.create_audio_clip = (args) => {
        const filePath = String(args[0]);
        if (!slot.parent.props.has_audio_input) throw new LomError('create_audio_clip: clip slot is not on an audio track');
        if (slot.parent.props.is_frozen) throw new LomError('create_audio_clip: track is frozen');
        if (slot.clip) throw new LomError('create_audio_clip: clip slot is not empty');
        const clip = sim.makeAudioClipFromFile(filePath, { is_arrangement_clip: 0 });
        clip.parent = slot;
        slot.clip = clip;
        slot.notify('has_clip');
        sim.writes.push({ fn: 'ClipSlot.create_audio_clip', path: slot.canonicalPath(), file_path: filePath });
        return sim.createReturnsId ? ['id', clip.id] : undefined;
      };
    }
    return {
      path: () => `${slot.parent.canonicalPath()} clip_slots ${slot.parent.clipSlots.indexOf(slot)}`,
      props: { has_clip: { get: () => bool(slot.clip) } },
      children: { clip: { get: () => slot.clip } },
      functions,
    };
  },

  Clip(clip) {
    const p = clip.props;
    const sim = clip.sim;
    const warpMarkersJson = () => JSON.stringify({ warp_markers: p.warp_markers.map((m) => ({ sample_time: m.sample_time, beat_time: m.beat_time })) });
    const functions = {
      get_notes_extended: (args) => {
        requireMidi(clip, 'get_notes_extended');
        if (args.length !== 4) throw new LomError('get_notes_extended: expects from_pitch, pitch_span, from_time, time_span');
        const [fromPitch, pitchSpan, fromTime, timeSpan] = args.map(Number);
        const notes = p.notes.filter((n) => n.pitch >= fromPitch && n.pitch < fromPitch + pitchSpan
          && n.start_time < fromTime + timeSpan && n.start_time + n.duration > fromTime);
        return JSON.stringify({
          notes: notes.map((n, i) => ({
            note_id: i + 1, pitch: n.pitch, start_time: n.start_time, duration: n.duration,
            velocity: n.velocity, mute: n.mute ? 1 : 0, probability: 1, velocity_deviation: 0, release_velocity: 64,
          })),
        });
      },
      move_warp_marker: (args) => {
        requireAudio(clip, 'move_warp_marker');
        const [beatTime, distance] = args.map(Number);
        const real = realMarkers(p);
        const marker = real.find((m) => Math.abs(m.beat_time - beatTime) < 1e-9);
        if (!marker) throw new LomError('move_warp_marker: no warp marker at that beat time');
        marker.beat_time = beatTime + distance;
        setRealMarkers(p, real);
        sim.writes.push({ fn: 'Clip.move_warp_marker', path: clip.canonicalPath(), beat_time: beatTime, distance });
        clip.notify('warp_markers');
        return undefined;
      },
      add_warp_marker: (args) => {
        requireAudio(clip, 'add_warp_marker');
        if (!p.warping) throw new LomError('add_warp_marker: the clip is not warped');
        const dict = args[0];
        if (!dict || typeof dict !== 'object' || !isFinite(Number(dict.beat_time))) {
          throw new LomError('add_warp_marker: expects a dict with beat_time and optionally sample_time');
        }
        const beat = Number(dict.beat_time);
        const real = realMarkers(p);
        const sample = dict.sample_time === undefined ? sampleAtBeat(p, beat) : Number(dict.sample_time);
        const before = real.filter((m) => m.beat_time < beat);
        const after = real.filter((m) => m.beat_time > beat);
        const prev = before[before.length - 1];
        const next = after[0];
        const possible = isFinite(sample) && sample >= 0 && sample <= (p.sample_seconds || Infinity) + 1e-9
          && before.length + after.length === real.length
          && (!prev || sample > prev.sample_time) && (!next || sample < next.sample_time);
        if (!possible) throw new LomError(`add_warp_marker: a warp marker at beat ${beat} (sample time ${sample}) is not possible`);
        setRealMarkers(p, before.concat([{ beat_time: beat, sample_time: sample }], after));
        sim.writes.push({ fn: 'Clip.add_warp_marker', path: clip.canonicalPath(), beat_time: beat, sample_time: sample });
        clip.notify('warp_markers');
        return undefined;
      },
      remove_warp_marker: (args) => {
        requireAudio(clip, 'remove_warp_marker');
        const beat = Number(args[0]);
        const real = realMarkers(p);
        const i = real.findIndex((m) => Math.abs(m.beat_time - beat) < 1e-9);
        if (i < 0) throw new LomError('remove_warp_marker: no warp marker at that beat time');
        if (real.length < 2) throw new LomError('remove_warp_marker: a warped clip keeps at least one warp marker');
        real.splice(i, 1);
        setRealMarkers(p, real);
        sim.writes.push({ fn: 'Clip.remove_warp_marker', path: clip.canonicalPath(), beat_time: beat });
        clip.notify('warp_markers');
        return undefined;
      },
    };
    if (sim.clipEnvelopes) {
      functions.automation_envelope = (args) => {
        const param = objectArgument(sim, args, 'automation_envelope');
        if (!param || param.type !== 'DeviceParameter') throw new LomError('automation_envelope: expects a DeviceParameter');
        // Live's docstring: None if the envelope doesn't exist, for Arrangement clips, and for parameters
        // from a different track. Max shows None as "id 0".
        if (p.is_arrangement_clip) return ['id', 0];
        if (trackOf(param) !== trackOf(clip)) return ['id', 0];
        const env = clip.envelopes.get(param.id);
        return ['id', env ? env.id : 0];
      };
    }
    return {
      path: () => {
        const parent = clip.parent;
        if (!parent) return `id ${clip.id}`;
        if (parent.type === 'ClipSlot') return `${parent.canonicalPath()} clip`;
        return `${parent.canonicalPath()} arrangement_clips ${parent.arrangementClips.indexOf(clip)}`;
      },
      props: {
        name: { get: () => p.name || '', set: (v) => clip.setProp('name', String(v)) },
        is_audio_clip: { get: () => bool(p.is_audio_clip) },
        is_midi_clip: { get: () => bool(!p.is_audio_clip) },
        is_arrangement_clip: { get: () => bool(p.is_arrangement_clip) },
        file_path: { get: () => { requireAudio(clip, 'file_path'); return p.file_path; } },
        sample_length: { get: () => { requireAudio(clip, 'sample_length'); return p.sample_frames || 0; } },
        sample_rate: { get: () => { requireAudio(clip, 'sample_rate'); return p.sample_rate || 0; } },
        warping: {
          get: () => { requireAudio(clip, 'warping'); return bool(p.warping); },
          set: (v) => {
            requireAudio(clip, 'warping');
            const on = bool(Number(v));
            if (on && !p.warping && p.sample_seconds) {
              // Live places its own markers; the simulator assumes its tempo guess is autoWarpBpm.
              const beats = p.sample_seconds * sim.autoWarpBpm / 60;
              setRealMarkers(p, [{ beat_time: 0, sample_time: 0 }, { beat_time: beats, sample_time: p.sample_seconds }]);
              p.loop_start = 0; p.start_marker = 0; p.loop_end = beats; p.end_marker = beats;
            }
            clip.setProp('warping', on);
          },
        },
        warp_markers: { get: () => { requireAudio(clip, 'warp_markers'); return { dict: warpMarkersJson() }; } },
        looping: { get: () => bool(p.looping), set: (v) => clip.setProp('looping', bool(Number(v))) },
        loop_start: {
          get: () => p.loop_start,
          set: (v) => { if (Number(v) >= p.loop_end) throw new LomError('loop_start: must be before loop_end'); clip.setProp('loop_start', Number(v)); },
        },
        loop_end: {
          get: () => p.loop_end,
          set: (v) => { if (Number(v) <= p.loop_start) throw new LomError('loop_end: must be after loop_start'); clip.setProp('loop_end', Number(v)); },
        },
        start_marker: {
          get: () => p.start_marker,
          set: (v) => { if (Number(v) >= p.end_marker) throw new LomError('start_marker: cannot be set behind the end marker'); clip.setProp('start_marker', Number(v)); },
        },
        end_marker: {
          get: () => p.end_marker,
          set: (v) => { if (Number(v) <= p.start_marker) throw new LomError('end_marker: cannot be set before the start marker'); clip.setProp('end_marker', Number(v)); },
        },
        length: { get: () => (p.looping ? p.loop_end - p.loop_start : p.end_marker - p.start_marker) },
        start_time: { get: () => p.start_time || 0 },
        end_time: { get: () => (p.start_time || 0) + (p.looping ? p.loop_end - p.loop_start : p.end_marker - p.start_marker) },
        is_playing: { get: () => bool(p.is_playing) },
        playing_position: { get: () => p.playing_position || 0 },
      },
      children: {},
      functions,
    };
  },

  Envelope(env) {
    return {
      path: () => `id ${env.id}`,
      props: {},
      children: { canonical_parent: { get: () => env.parent } },
      functions: {
        value_at_time: (args) => {
          if (args.length !== 1 || !isFinite(Number(args[0]))) throw new LomError('value_at_time: expects a time');
          env.sim.reads.push({ fn: 'Envelope.value_at_time', time: Number(args[0]) });
          return envelopeValue(env.points, Number(args[0]));
        },
      },
    };
  },

  CuePoint(cue) {
    return {
      path: () => `live_set cue_points ${cue.sim.song.spec().children.cue_points.get().indexOf(cue)}`,
      props: { name: { get: () => cue.props.name, set: (v) => cue.setProp('name', String(v)) }, time: { get: () => cue.props.time } },
      children: {},
      functions: { jump: () => { cue.sim.song.setProp('current_song_time', cue.props.time); return undefined; } },
    };
  },

  Device(device) {
    return {
      path: () => `${device.parent.canonicalPath()} devices ${device.parent.devices.indexOf(device)}`,
      props: { name: { get: () => device.props.name } },
      children: {
        canonical_parent: { get: () => device.parent },
        parameters: { list: true, get: () => device.parameters },
      },
      functions: {},
    };
  },

  RackDevice(rack) {
    return {
      path: () => `${rack.parent.canonicalPath()} devices ${rack.parent.devices.indexOf(rack)}`,
      props: { name: { get: () => rack.props.name } },
      children: {
        canonical_parent: { get: () => rack.parent },
        chains: { list: true, get: () => rack.chains },
        parameters: { list: true, get: () => rack.parameters },
      },
      functions: {},
    };
  },

  Chain(chain) {
    return {
      path: () => `${chain.parent.canonicalPath()} chains ${chain.parent.chains.indexOf(chain)}`,
      props: { name: { get: () => chain.props.name } },
      children: {
        canonical_parent: { get: () => chain.parent },
        devices: { list: true, get: () => chain.devices },
      },
      functions: {},
    };
  },

  DeviceParameter(param) {
    const p = param.props;
    return {
      path: () => `${param.parent.canonicalPath()} parameters ${param.parent.parameters.indexOf(param)}`,
      props: {
        name: { get: () => p.name },
        original_name: { get: () => p.name },
        value: {
          get: () => p.value,
          set: (v) => {
            const x = Number(v);
            if (!(x >= p.min && x <= p.max)) throw new LomError('value: value out of range');
            param.setProp('value', x);
          },
        },
        min: { get: () => p.min },
        max: { get: () => p.max },
        is_quantized: { get: () => bool(p.is_quantized) },
      },
      children: { canonical_parent: { get: () => param.parent } },
      functions: {},
    };
  },
};

/** The markers of a clip without the hidden one Live reports after the last (see the file's header). */
function realMarkers(p) {
  const all = (p.warp_markers || []).map((m) => ({ beat_time: m.beat_time, sample_time: m.sample_time }));
  return all.length >= 2 ? all.slice(0, -1) : all;
}

/** Stores real markers and appends the hidden one: 1/32 beat after the last, at the last segment's tempo. */
function setRealMarkers(p, real) {
  const sorted = real.slice().sort((a, b) => a.beat_time - b.beat_time);
  if (sorted.length >= 2) {
    const a = sorted[sorted.length - 2];
    const b = sorted[sorted.length - 1];
    p.seconds_per_beat = (b.sample_time - a.sample_time) / (b.beat_time - a.beat_time);
  }
  const last = sorted[sorted.length - 1];
  const spb = p.seconds_per_beat || 60 / 120;
  p.warp_markers = sorted.concat(last ? [{ beat_time: last.beat_time + 1 / 32, sample_time: last.sample_time + spb / 32 }] : []);
}

/** The sample time (seconds) at `beat` under a clip's warp markers (linear, extended past the ends). */
function sampleAtBeat(p, beat) {
  const real = realMarkers(p);
  if (!real.length) return beat * 60 / 120;
  if (real.length === 1) return real[0].sample_time + (beat - real[0].beat_time) * (p.seconds_per_beat || 0.5);
  let i = 0;
  while (i < real.length - 2 && beat > real[i + 1].beat_time) i += 1;
  const a = real[i];
  const b = real[i + 1];
  return a.sample_time + (beat - a.beat_time) * (b.sample_time - a.sample_time) / (b.beat_time - a.beat_time);
}

/**
 * An envelope's value at `time`: straight lines between breakpoints [[time, value], ...]; two breakpoints
 * at the same time make a step (the later one holds from there on); before the first and after the last
 * the nearest value holds.
 */
function envelopeValue(points, time) {
  if (!points.length) return 0;
  if (time <= points[0][0]) return points[0][1];
  for (let i = points.length - 1; i >= 0; i -= 1) {
    if (points[i][0] <= time) {
      const a = points[i];
      const b = points[i + 1];
      if (!b || b[0] === a[0]) return a[1];
      return a[1] + (b[1] - a[1]) * (time - a[0]) / (b[0] - a[0]);
    }
  }
  return points[points.length - 1][1];
}

/** The object named by "id", n at the start of a call's arguments (Max passes an object argument so). */
function objectArgument(sim, args, fn) {
  if (args.length >= 2 && String(args[0]) === 'id') return sim.byId.get(Number(args[1])) || null;
  const m = /^id\s+(\d+)$/.exec(String(args[0] || ''));
  if (m) return sim.byId.get(Number(m[1])) || null;
  throw new LomError(`${fn}: expects an object as "id", n`);
}

/** The Track an object belongs to (walking up through clip slots, racks and chains), or null. */
function trackOf(obj) {
  let o = obj;
  while (o && o.type !== 'Track') o = o.parent;
  return o || null;
}

/**
 * A simulated Live Set. Build it with `new LiveSim({...})`, add tracks/clips with the helpers, then
 * hand `sim.LiveAPI` to the device code.
 */
class LiveSim {
  constructor(opts) {
    const o = opts || {};
    this.nextId = 1;
    this.byId = new Map();
    this.console = [];
    this.writes = [];
    this.reads = []; // envelope reads, for tests that count them
    this.liveVersion = (o.liveVersion || '12.1.0').split('.').map(Number);
    this.autoWarpBpm = o.autoWarpBpm || 120;
    // create_audio_clip: present from Live 12 (an early 12.0 lacks it: audioClipApi false); what it returns.
    this.audioClipApi = o.audioClipApi === undefined ? this.liveVersion[0] >= 12 : Boolean(o.audioClipApi);
    this.createReturnsId = Boolean(o.createReturnsId);
    // Clip.automation_envelope reachable from Max (see the header): off unless asked for.
    this.clipEnvelopes = Boolean(o.clipEnvelopes);
    this.deviceReady = false;
    this._inNotification = 0;
    this.app = new LomObject(this, 'Application');
    this.song = new LomObject(this, 'Song', {
      tempo: o.tempo || 120,
      signature_numerator: o.signature_numerator || 4,
      signature_denominator: o.signature_denominator || 4,
      loop: o.loop ? 1 : 0,
      loop_start: o.loop_start || 0,
      loop_length: o.loop_length || 16,
      current_song_time: 0,
      is_playing: 0,
    });
    this.songView = new LomObject(this, 'Song.View');
    this.tracks = [];
    this.cuePoints = [];
    this.detailClip = null;
    this.selectedTrack = null;
    this.thisDevice = null;
    const sim = this;
    this.LiveAPI = function LiveAPI(a, b) { return makeApi(sim, this, a, b); };
  }

  /** Adds a track; `audio` true for an audio track. Returns the Track. */
  addTrack(name, { audio = true, slots = 8, frozen = false } = {}) {
    const track = new LomObject(this, 'Track', { name, has_audio_input: audio, is_frozen: frozen });
    track.clipSlots = [];
    track.arrangementClips = [];
    track.devices = [];
    for (let i = 0; i < slots; i += 1) {
      const slot = new LomObject(this, 'ClipSlot');
      slot.parent = track;
      slot.clip = null;
      track.clipSlots.push(slot);
    }
    this.tracks.push(track);
    if (!this.selectedTrack) this.selectedTrack = track;
    return track;
  }

  /**
   * Puts this device (the one running the JavaScript) on `parent`: a Track, or a Chain of a rack (see
   * addRack). `parameters`: [{name, min, max, value, is_quantized}] after the "Device On" parameter every
   * device has first. Returns the Device.
   */
  placeDevice(parent, name, opts) {
    const o = opts || {};
    const device = new LomObject(this, 'Device', { name: name || 'ditto-bridge' });
    device.parent = parent;
    parent.devices.push(device);
    device.parameters = [];
    const params = [{ name: 'Device On', min: 0, max: 1, value: 1, is_quantized: 1 }].concat(o.parameters || []);
    for (const fields of params) {
      const param = new LomObject(this, 'DeviceParameter', Object.assign({ is_quantized: 0 }, fields));
      param.parent = device;
      device.parameters.push(param);
    }
    this.thisDevice = device;
    return device;
  }

  /** An Audio Effect Rack with `chainCount` chains on `parent` (a Track or a Chain). Returns the RackDevice. */
  addRack(parent, name, chainCount) {
    const rack = new LomObject(this, 'RackDevice', { name: name || 'Audio Effect Rack' });
    rack.parent = parent;
    parent.devices.push(rack);
    const on = new LomObject(this, 'DeviceParameter', { name: 'Device On', min: 0, max: 1, value: 1, is_quantized: 1 });
    on.parent = rack;
    rack.parameters = [on];
    rack.chains = [];
    for (let i = 0; i < (chainCount || 1); i += 1) {
      const chain = new LomObject(this, 'Chain', { name: `Chain ${i + 1}` });
      chain.parent = rack;
      chain.devices = [];
      rack.chains.push(chain);
    }
    return rack;
  }

  /** The DeviceParameter called `name` of this device. */
  deviceParameter(name) {
    return this.thisDevice.parameters.find((q) => q.props.name === name) || null;
  }

  /**
   * Draws the envelope of DeviceParameter `param` in `clip`: breakpoints [[time, value], ...] on the clip's
   * axis, in the parameter's own units (see envelopeValue). Returns the Envelope.
   */
  drawClipEnvelope(clip, param, points) {
    let env = clip.envelopes.get(param.id);
    if (!env) {
      env = new LomObject(this, 'Envelope');
      env.parent = clip;
      clip.envelopes.set(param.id, env);
    }
    env.points = points.map((q) => [Number(q[0]), Number(q[1])]).sort((a, b) => a[0] - b[0]);
    return env;
  }

  /** Plays `clip` at `position` (its playing_position, on the clip's own axis), or stops it (position null). */
  playClip(clip, position) {
    clip.props.is_playing = position === null ? 0 : 1;
    clip.props.playing_position = position === null ? 0 : position;
    clip.notify('playing_position');
  }

  /** A session clip in `track`'s slot `slot`. `fields` are Clip properties (see SPECS.Clip). */
  addSessionClip(track, slot, fields) {
    const clip = this._makeClip(fields);
    clip.parent = track.clipSlots[slot];
    track.clipSlots[slot].clip = clip;
    return clip;
  }

  addArrangementClip(track, fields) {
    const clip = this._makeClip(Object.assign({ is_arrangement_clip: 1 }, fields));
    clip.parent = track;
    track.arrangementClips.push(clip);
    return clip;
  }

  addCuePoint(name, time) {
    const cue = new LomObject(this, 'CuePoint', { name, time });
    this.cuePoints.push(cue);
    return cue;
  }

  selectClip(clip) { this.detailClip = clip; this.songView.notify('detail_clip'); }

  /** Called by the harness when live.thisdevice bangs. */
  markDeviceReady() { this.deviceReady = true; }

  _makeClip(fields) {
    const f = Object.assign({
      name: '', is_audio_clip: 1, is_arrangement_clip: 0, warping: 1, looping: 1,
      loop_start: 0, loop_end: 16, start_marker: 0, end_marker: 16, start_time: 0,
      warp_markers: [], notes: [], file_path: '',
    }, fields);
    const clip = new LomObject(this, 'Clip', f);
    clip.envelopes = new Map();
    return clip;
  }

  makeAudioClipFromFile(filePath, extra) {
    if (!fs.existsSync(filePath)) throw new LomError(`create_audio_clip: file not found: ${filePath}`);
    const info = wavInfo(filePath);
    if (info === null) throw new LomError(`create_audio_clip: not a supported audio file: ${filePath}`);
    const seconds = info.seconds;
    const name = filePath.split(/[\\/]/).pop().replace(/\.[^.]+$/, '');
    return this._makeClip(Object.assign({
      name, is_audio_clip: 1, file_path: filePath, warping: 0, looping: 0,
      loop_start: 0, loop_end: seconds, start_marker: 0, end_marker: seconds, sample_seconds: seconds,
      sample_rate: info.sampleRate, sample_frames: info.frames,
    }, extra));
  }

  /** Resolves a path string ("live_set tracks 0 clip_slots 1 clip", "id 7", "this_device ...") to an object or null. */
  resolve(path) {
    const tokens = String(path).trim().replace(/"/g, '').split(/\s+/).filter(Boolean);
    if (!tokens.length) return null;
    let obj;
    let i = 1;
    if (tokens[0] === 'live_set') obj = this.song;
    else if (tokens[0] === 'live_app') obj = this.app;
    else if (tokens[0] === 'this_device') obj = this.thisDevice;
    else if (tokens[0] === 'id') { obj = this.byId.get(Number(tokens[1])) || null; i = 2; }
    else return null;
    while (obj && i < tokens.length) {
      const name = tokens[i];
      const child = obj.spec().children[name];
      if (!child) return null;
      if (child.list) {
        const list = child.get();
        const idx = Number(tokens[i + 1]);
        obj = Number.isInteger(idx) && idx >= 0 && idx < list.length ? list[idx] : null;
        i += 2;
      } else {
        obj = child.get() || null;
        i += 1;
      }
    }
    return obj || null;
  }

  /** Runs `fn` as Live runs an observer callback: writes to the set inside it fail. */
  _dispatchNotification(fn) {
    this._inNotification += 1;
    try { fn(); } finally { this._inNotification -= 1; }
  }

  _guardWrite() {
    if (this._inNotification > 0) throw new LomError(NOTIFICATION_ERROR);
  }
}

const MUTATING_FUNCTIONS = new Set(['create_audio_clip', 'move_warp_marker', 'add_warp_marker', 'remove_warp_marker', 'jump']);

function toMaxAtoms(value) {
  // What LiveAPI.get returns for a value: an Array of atoms.
  if (value === null || value === undefined) return ['id', 0];
  if (value instanceof LomObject) return ['id', value.id];
  if (Array.isArray(value)) {
    const out = [];
    value.forEach((v) => { out.push('id', v.id); });
    return out;
  }
  if (typeof value === 'object' && value.dict !== undefined) return [value.dict];
  if (typeof value === 'boolean') return [value ? 1 : 0];
  return [value];
}

function makeApi(sim, self, a, b) {
  const callback = typeof a === 'function' ? a : null;
  let path = typeof a === 'string' ? a : (typeof b === 'string' ? b : null);
  if (Array.isArray(a)) path = a.join(' ');
  if (Array.isArray(b)) path = b.join(' ');
  const api = Object.create(LiveApiProto);
  api._sim = sim;
  api._callback = callback;
  api._property = '';
  api._obj = null;
  api.mode = 0;
  if (!sim.deviceReady) {
    sim.console.push('Live API is not initialized, use live.thisdevice to determine when initialization is complete');
  } else if (path !== null) {
    api._goto(path);
  }
  return api;
}

const LiveApiProto = {
  _goto(path) {
    const obj = this._sim.resolve(path);
    if (!obj && !/^id\s+0$/.test(String(path).trim())) this._sim.console.push(`LiveAPI: invalid path: ${path}`);
    this._setObj(obj);
  },
  _setObj(obj) {
    if (this._obj) this._obj.observers = this._obj.observers.filter((o) => o !== this);
    this._obj = obj;
    if (obj && this._property) obj.observers.push(this);
  },
  _fire() {
    if (!this._callback || !this._obj) return;
    const args = [this._property].concat(this._getAtoms(this._property));
    this._sim._dispatchNotification(() => this._callback.call(this, args));
  },
  _error(message) { this._sim.console.push(message); },
  _getAtoms(name) {
    const obj = this._obj;
    const spec = obj.spec();
    if (spec.props[name]) return toMaxAtoms(spec.props[name].get());
    if (spec.children[name]) return toMaxAtoms(spec.children[name].get());
    throw new LomError(`get: no property or child named ${name} in ${obj.type}`);
  },
  get id() { return this._obj ? this._obj.id : 0; },
  set id(v) { this._setObj(this._sim.byId.get(Number(v)) || null); },
  get path() { return this._obj ? `"${this._obj.canonicalPath()}"` : '""'; },
  set path(p) { this._goto(p); },
  get unquotedpath() { return this._obj ? this._obj.canonicalPath() : ''; },
  get type() { return this._obj ? this._obj.type : ''; },
  get children() { return this._obj ? this._obj.childNames() : []; },
  get info() {
    if (!this._obj) return 'No object';
    const o = this._obj;
    return [`id ${o.id}`, `type ${o.type}`]
      .concat(o.childNames().map((c) => `child ${c}`))
      .concat(o.propertyNames().map((p) => `property ${p}`))
      .concat(o.functionNames().map((f) => `function ${f}`))
      .join('\n');
  },
  get property() { return this._property; },
  set property(name) {
    this._property = String(name || '');
    this._setObj(this._obj);
    if (this._obj && this._property) {
      const spec = this._obj.spec();
      if (!spec.props[this._property] && !spec.children[this._property]) {
        this._error(`property: ${this._property} is not observable in ${this._obj.type}`);
      } else {
        this._fire();
      }
    }
  },
  get proptype() {
    if (!this._obj || !this._property) return '';
    const v = this._getAtoms(this._property);
    return typeof v[0] === 'number' ? 'float' : 'symbol';
  },
  get(name) {
    if (!this._obj) { this._error('get: no valid object'); return []; }
    try { return this._getAtoms(String(name)); } catch (e) {
      if (e instanceof LomError) { this._error(e.message); return []; }
      throw e;
    }
  },
  getstring(name) { return this.get(name).join(' '); },
  set(name, ...values) {
    if (!this._obj) { this._error('set: no valid object'); return; }
    try {
      this._sim._guardWrite();
      const spec = this._obj.spec();
      const prop = spec.props[name];
      const child = spec.children[name];
      if (prop) {
        if (!prop.set) throw new LomError(`set: property ${name} is read-only`);
        prop.set(values.length === 1 ? values[0] : values);
      } else if (child && child.set) {
        const target = values[0] === 'id' ? this._sim.byId.get(Number(values[1])) : null;
        child.set(target || null);
      } else {
        throw new LomError(`set: no settable property ${name} in ${this._obj.type}`);
      }
      this._sim.writes.push({ fn: 'set', path: this._obj.canonicalPath(), property: name, value: values });
    } catch (e) {
      if (e instanceof LomError) { this._error(e.message); return; }
      throw e;
    }
  },
  call(name, ...args) {
    if (!this._obj) { this._error('call: no valid object'); return undefined; }
    try {
      if (MUTATING_FUNCTIONS.has(name)) this._sim._guardWrite();
      const fn = this._obj.spec().functions[name];
      if (!fn) throw new LomError(`call: invalid function ${name} for ${this._obj.type}`);
      return fn(args);
    } catch (e) {
      if (e instanceof LomError) { this._error(e.message); return undefined; }
      throw e;
    }
  },
  getcount(name) {
    if (!this._obj) return 0;
    const child = this._obj.spec().children[name];
    if (!child) { this._error(`getcount: no child ${name}`); return 0; }
    return child.list ? child.get().length : (child.get() ? 1 : 0);
  },
  goto(path) { this._goto(path); },
};

module.exports = { LiveSim, LomError, NOTIFICATION_ERROR, wavDurationSeconds, wavInfo, envelopeValue };
