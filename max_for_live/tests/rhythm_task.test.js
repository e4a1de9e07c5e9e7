'use strict';
/**
 * The Rhythm task: what the device sends as the job's `rhythm` (docs/PROTOCOL.md, "Rhythm") for a MIDI drum
 * clip, an audio drum clip and the step editor; the errors in plain words when there is nothing to play on; the
 * step pattern saved with the set; the step editor, Swing and resolution in the patcher, wired to the script.
 * The device runs as in Max (max_env.js) against the LOM simulator.
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { buildSet } = require('./fixtures');
const { loadDevice } = require('./max_env');
const { loadProtocolTable, loadJobFields } = require('./protocol_table');

const TABLE = loadProtocolTable();
const JOB_FIELDS = loadJobFields();
const TOP_FIELDS = new Set([...JOB_FIELDS].map((f) => f.split('.')[0]));
const SOURCE = path.join(__dirname, '..', 'src', 'DittoBridge.maxpat');
const plain = (x) => JSON.parse(JSON.stringify(x));

/** A four-on-the-floor with offbeat hats, as the step editor (a multislider) sends it: 16 accents 0-1. */
const PATTERN = [1, 0, 0.5, 0, 0.8, 0, 0.5, 0, 1, 0, 0.5, 0, 0.8, 0, 0.5, 0];

/**
 * The test set plus a MIDI drum clip "Beat" in the Keys track's second slot, loop brace 4-8 beats:
 * kick and hat together at 4 (one hit, the kick is louder), a hat at 4.5, a snare at 5, a muted hat at 5.5, a
 * hat at 7.75 held past the loop's end, a note held across the loop start (from 3.5) and a kick at 8 (outside).
 */
function drumSet() {
  const set = buildSet();
  set.clips.beat = set.sim.addSessionClip(set.tracks.keys, 1, {
    name: 'Beat', is_audio_clip: 0, looping: 1, loop_start: 4, loop_end: 8, start_marker: 0, end_marker: 8,
    notes: [
      { pitch: 42, start_time: 4, duration: 0.25, velocity: 60, mute: 0 },
      { pitch: 36, start_time: 4, duration: 0.5, velocity: 110, mute: 0 },
      { pitch: 42, start_time: 4.5, duration: 0.25, velocity: 70, mute: 0 },
      { pitch: 38, start_time: 5, duration: 0.5, velocity: 100, mute: 0 },
      { pitch: 42, start_time: 5.5, duration: 0.25, velocity: 90, mute: 1 },
      { pitch: 42, start_time: 7.75, duration: 0.5, velocity: 80, mute: 0 },
      { pitch: 49, start_time: 3.5, duration: 1, velocity: 127, mute: 0 },
      { pitch: 36, start_time: 8, duration: 0.5, velocity: 110, mute: 0 },
    ],
  });
  return set;
}

function device(set) {
  const env = loadDevice(set.sim);
  env.deviceLoaded();
  env.send('task', TABLE.tasks.indexOf('rhythm'));
  return env;
}

/** Presses Generate: the job sent (the error line says why when nothing was). */
function generate(env) {
  const before = env.osc.length;
  env.send('generate', 1);
  const sent = env.osc.slice(before).filter((m) => m.address === '/ditto/generate');
  assert.equal(sent.length, 1, `no /ditto/generate sent; error line: ${env.uiState.error}`);
  const job = JSON.parse(sent[0].args[0]);
  assert.equal(job.task, 'rhythm');
  for (const key of Object.keys(job)) assert.ok(TOP_FIELDS.has(key), `job field '${key}' is not in PROTOCOL.md`);
  for (const key of Object.keys(job.rhythm)) {
    assert.ok(JOB_FIELDS.has(`rhythm.${key}`), `rhythm.${key} is not in PROTOCOL.md`);
  }
  return job;
}

/** Presses Generate expecting a refusal: nothing is sent, the error line is returned. */
function refused(env) {
  const before = env.osc.length;
  env.send('generate', 1);
  assert.equal(env.osc.slice(before).filter((m) => m.address === '/ditto/generate').length, 0, 'nothing is sent');
  return env.uiState.error;
}

test('the task menu lists Rhythm last, as the protocol table lists the task', () => {
  const env = device(drumSet());
  assert.equal(TABLE.tasks.at(-1), 'rhythm');
  assert.equal(env.context.TASK_LABELS[env.context.TASKS.indexOf('rhythm')], 'Rhythm');
});

test('a MIDI drum clip: its hits inside the loop brace, relative to its start, and loop_beats = the brace', () => {
  const set = drumSet();
  const env = device(set);
  set.sim.selectClip(set.clips.beat);
  const job = generate(env);
  assert.equal(job.name, 'Beat');
  assert.deepEqual(job.rhythm, {
    notes: [
      { pitch: 36, start_time: 0, duration: 0.5, velocity: 110, mute: 0 },
      { pitch: 42, start_time: 0.5, duration: 0.25, velocity: 70, mute: 0 },
      { pitch: 38, start_time: 1, duration: 0.5, velocity: 100, mute: 0 },
      { pitch: 42, start_time: 3.75, duration: 0.25, velocity: 80, mute: 0 },
    ],
    loop_beats: 4,
  });
  assert.deepEqual(job.range, { start: 4, end: 8, unit: 'beats' }, 'the clip\'s range, as Match melody sends it');
  assert.equal(job.clip, undefined);
  assert.match(env.uiState.status, /^Sent Rhythm to the daemon \(rhythm from the 4 hits of MIDI clip 'Beat'\)/);
});

test('a MIDI drum clip in the Arrangement: the job\'s range is in song beats, so the take lands under it', () => {
  const set = drumSet();
  const { loop_start, loop_end, start_marker, end_marker, notes } = set.clips.beat.props;
  const clip = set.sim.addArrangementClip(set.tracks.keys, {
    name: 'Beat (arr.)', is_audio_clip: 0, looping: 1, loop_start, loop_end, start_marker, end_marker, notes,
    start_time: 16,
  });
  const env = device(set);
  set.sim.selectClip(clip);
  const job = generate(env);
  // the clip plays its loop brace (4-8) from song beat 16
  assert.deepEqual(job.range, { start: 16, end: 20, unit: 'beats' });
  assert.equal(job.rhythm.loop_beats, 4);
  assert.equal(job.rhythm.notes[0].start_time, 0);
});

test('an audio drum clip: rhythm.clip as jobClip builds it and rhythm.range on the clip\'s own axis', () => {
  const set = drumSet();
  const env = device(set);
  set.sim.selectClip(set.clips.breakClip);
  const job = generate(env);
  assert.deepEqual(Object.keys(job.rhythm).sort(), ['clip', 'range']);
  assert.deepEqual(job.rhythm.range, { start: 4, end: 8, unit: 'beats' });
  // the clip exactly as the clip tasks send it (its fields are checked in device_protocol.test.js)
  assert.deepEqual(job.rhythm.clip, plain(env.context.jobClip(env.context.readDetailClip())));
  assert.equal(job.rhythm.clip.file_path, set.files.breakWav);
  assert.equal(job.range, undefined, 'a Session clip has no song position');
  assert.match(env.uiState.status, /rhythm from the onsets of audio clip 'Break'/);
});

test('an unwarped audio drum clip in the Arrangement: its range in seconds inside rhythm, the job\'s in song beats', () => {
  const set = drumSet();
  const env = device(set);
  set.sim.selectClip(set.clips.voxClip);
  const job = generate(env);
  assert.deepEqual(job.rhythm.range, { start: 1, end: 7, unit: 'seconds' });
  assert.equal(job.rhythm.clip.warping, false);
  // 6 s of the clip at 100 BPM are 10 beats from song beat 32
  assert.deepEqual(job.range, { start: 32, end: 42, unit: 'beats' });
});

test('the step pattern with no clip selected: steps, steps_per_beat from the resolution, swing as a share of a step', () => {
  const set = drumSet();
  const env = device(set);
  env.send('pattern', ...PATTERN);
  env.send('resolution', 4); // 1/16T
  env.send('swing', 30);
  const job = generate(env);
  assert.deepEqual(job.rhythm, { steps: PATTERN, steps_per_beat: 6, swing: 0.3 });
  assert.equal(job.range, undefined);
  assert.equal(job.name, 'rhythm');
  assert.match(env.uiState.status, /rhythm from 8 of the 16 steps at 1\/16T, swing 30 %/);
  for (const [index, perBeat] of [[0, 1], [1, 2], [2, 3], [3, 4], [5, 8]]) {
    env.send('resolution', index);
    assert.equal(generate(env).rhythm.steps_per_beat, perBeat);
  }
});

test('Rhythm = Steps plays on the steps even with a drum clip selected; Range = Arr. loop gives the job\'s range', () => {
  const set = drumSet();
  const env = device(set);
  env.send('pattern', ...PATTERN);
  env.send('rhythmsource', 1);
  set.sim.selectClip(set.clips.beat);
  const job = generate(env);
  assert.deepEqual(job.rhythm, { steps: PATTERN, steps_per_beat: 4, swing: 0 });
  env.send('range', 1);
  assert.deepEqual(generate(env).range, { start: 32, end: 48, unit: 'beats' });
});

test('the steps are cleaned as the editor sends them: clamped to 0-1, 3 decimals, a bar under 0.05 is a rest', () => {
  const set = drumSet();
  const env = device(set);
  env.send('pattern', 1.2, 0.04, 0.123456, -0.5, 0.05);
  assert.deepEqual(generate(env).rhythm.steps, [1, 0, 0.123, 0, 0.05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
});

test('a drum clip with no unmuted note inside its loop brace is refused in plain words', () => {
  const set = drumSet();
  const env = device(set);
  set.clips.beat.props.loop_start = 5.25;
  set.clips.beat.props.loop_end = 7.5; // holds only the muted hat at 5.5
  set.sim.selectClip(set.clips.beat);
  assert.match(refused(env), /^The drum clip 'Beat' has no unmuted notes inside its loop brace: .* set Rhythm to Steps/);
  set.clips.beat.props.notes = [];
  set.clips.beat.props.loop_start = 4;
  set.clips.beat.props.loop_end = 8;
  assert.match(refused(env), /^The drum clip 'Beat' has no unmuted notes inside its loop brace/);
});

test('no clip selected and an empty step pattern is refused: select a drum clip or draw steps', () => {
  const env = device(drumSet());
  assert.match(refused(env),
    /no drum clip is selected and the step pattern is empty\. Click a MIDI or audio drum clip .* draw steps/);
  env.send('pattern', ...PATTERN.map(() => 0));
  assert.match(refused(env), /step pattern is empty/);
  env.send('rhythmsource', 1);
  assert.match(refused(env), /^The step pattern is empty: draw at least one step in the Rhythm steps editor/);
});

test('the lineage follows the drum clip, or the range for the steps; editing the steps keeps it', () => {
  const set = drumSet();
  const env = device(set);
  set.sim.selectClip(set.clips.beat);
  const onBeat = generate(env).lineage;
  assert.match(onBeat, /^m4l-rhythm-s0-i0-[0-9a-f]{8}$/);
  set.sim.selectClip(set.clips.breakClip);
  assert.notEqual(generate(env).lineage, onBeat, 'another drum clip, another idea');
  set.sim.selectClip(null);
  env.send('pattern', ...PATTERN);
  const onSteps = generate(env).lineage;
  env.send('pattern', ...PATTERN.slice().reverse());
  env.send('swing', 50);
  assert.equal(generate(env).lineage, onSteps, 'tweaking the steps and the swing keeps the idea');
});

test('the step pattern, the swing, the resolution and the source come back when the set is opened again', () => {
  const set = drumSet();
  const env = device(set);
  const params = [['rhythmsource', 1], ['resolution', 2], ['swing', 25]];
  for (const [selector, value] of params) env.send(selector, value);
  env.send('pattern', ...PATTERN);
  assert.ok(env.notified > 0, 'drawing steps tells Live the state changed');
  const expected = generate(env);
  delete expected.id;
  const saved = env.saveState();
  assert.deepEqual(JSON.parse(saved[0]).pattern, PATTERN);

  for (const order of ['before live.thisdevice bangs', 'after live.thisdevice bangs']) {
    const again = buildSet({ dir: set.dir });
    const env2 = loadDevice(again.sim);
    if (order.startsWith('after')) env2.deviceLoaded();
    env2.send('task', TABLE.tasks.indexOf('rhythm'));
    for (const [selector, value] of params) env2.send(selector, value);
    env2.restoreState(saved);
    if (order.startsWith('before')) env2.deviceLoaded();
    assert.equal(env2.notified, 0, `${order}: restoring is not a change to save`);
    const shown = env2.uiLog.filter((m) => m[0] === 'setpattern').at(-1);
    assert.deepEqual(shown, ['setpattern', ...PATTERN], `${order}: the editor shows the steps`);
    const job = generate(env2);
    delete job.id;
    assert.deepEqual(job, expected, order);
  }
});

test('a set saved before the step editor existed opens with an empty pattern', () => {
  const set = drumSet();
  const env = loadDevice(set.sim);
  env.restoreState([JSON.stringify({ v: 1, tags: 'old', drawn: [], recorded: [], clip_recorded: null, inbox: '' })]);
  env.deviceLoaded();
  assert.deepEqual(env.uiLog.find((m) => m[0] === 'setpattern'), ['setpattern', ...PATTERN.map(() => 0)]);
  assert.equal(env.context.settings.tags, 'old');
});

test('drumHitsInRange: hits that start inside, relative; together as one, the loudest; muted and silent left out', () => {
  const f = loadDevice(null).context;
  const notes = [
    { pitch: 42, start_time: 2, duration: 1, velocity: 50, mute: 0 },
    { pitch: 36, start_time: 2, duration: 0.5, velocity: 120, mute: 0 },
    { pitch: 38, start_time: 2, duration: 0.5, velocity: 127, mute: 1 },
    { pitch: 38, start_time: 3, duration: 0.5, velocity: 0, mute: 0 },
    { pitch: 46, start_time: 1.5, duration: 2, velocity: 90, mute: 0 },
    { pitch: 42, start_time: 3.5, duration: 1, velocity: 40, mute: 0 },
  ];
  assert.deepEqual(plain(f.drumHitsInRange(notes, 2, 4)), [
    { pitch: 36, start_time: 0, duration: 0.5, velocity: 120, mute: 0 },
    { pitch: 42, start_time: 1.5, duration: 0.5, velocity: 40, mute: 0 },
  ]);
  assert.deepEqual(plain(f.drumHitsInRange(notes, 4, 8)), []);
});

test('stepPattern always gives 16 accents; rhythmFromSteps gives null for a pattern with no sounding step', () => {
  const f = loadDevice(null).context;
  assert.deepEqual(plain(f.stepPattern([])), new Array(16).fill(0));
  assert.deepEqual(plain(f.stepPattern(['x', 0.5, Infinity])), [0, 0.5, 0, ...new Array(13).fill(0)]);
  assert.equal(f.rhythmFromSteps([0.01, 0.02], 3, 0), null);
  assert.deepEqual(plain(f.rhythmFromSteps([1], 3, 90)),
    { steps: [1, ...new Array(15).fill(0)], steps_per_beat: 4, swing: 0.75 }, 'swing beyond 75 % is 75 %');
});

test('the patcher has the step editor, Swing and resolution wired to the script, and the editor shows what it restores', () => {
  const P = JSON.parse(fs.readFileSync(SOURCE, 'utf8')).patcher;
  const boxes = new Map(P.boxes.map((b) => [b.box.id, b.box]));
  const byVar = (name) => P.boxes.map((b) => b.box).find((b) => b.varname === name);
  const from = (id, outlet) => P.lines.filter((l) => l.patchline.source[0] === id && l.patchline.source[1] === outlet)
    .map((l) => boxes.get(l.patchline.destination[0]));
  const js = P.boxes.map((b) => b.box).find((b) => b.text === 'js ditto_device.js');
  /** The box a control's first outlet feeds, and that it feeds the script. */
  const prependInto = (box) => {
    const [prep] = from(box.id, 0);
    assert.deepEqual(from(prep.id, 0).map((b) => b.id), [js.id], `${prep.text} feeds the script`);
    return prep.text;
  };

  const editor = byVar('rhythm_steps');
  assert.equal(editor.maxclass, 'multislider');
  assert.equal(editor.size, env().PATTERN_STEPS);
  assert.deepEqual(editor.setminmax, [0, 1]);
  assert.equal(editor.settype, 1, 'float accents');
  assert.equal(editor.presentation, 1);
  assert.equal(prependInto(editor), 'prepend pattern');

  const swing = byVar('Swing').saved_attribute_attributes.valueof;
  assert.deepEqual([swing.parameter_mmin, swing.parameter_mmax, swing.parameter_unitstyle],
    [0, env().MAX_SWING_PERCENT, 5], '0-75 %');
  assert.equal(swing.parameter_invisible, 1, 'Stored Only: saved with the set');
  assert.equal(prependInto(byVar('Swing')), 'prepend swing');

  const resolution = byVar('Rhythm Resolution').saved_attribute_attributes.valueof;
  assert.deepEqual(resolution.parameter_enum, Array.from(env().RHYTHM_RESOLUTION_LABELS));
  assert.deepEqual(resolution.parameter_initial, [env().DEFAULT_RESOLUTION], '1/16: four steps per beat');
  assert.equal(env().RHYTHM_RESOLUTIONS[resolution.parameter_initial[0]], 4);
  assert.equal(prependInto(byVar('Rhythm Resolution')), 'prepend resolution');

  const source = byVar('Rhythm Source').saved_attribute_attributes.valueof;
  assert.deepEqual(source.parameter_enum.map((s) => s.toLowerCase()), Array.from(env().RHYTHM_SOURCES));
  assert.equal(prependInto(byVar('Rhythm Source')), 'prepend rhythmsource');

  // what the script restores reaches the editor through `set`, which shows values without sending them back
  const route = P.boxes.map((b) => b.box).find((b) => b.maxclass === 'newobj' && b.text.startsWith('route status'));
  const [setter] = from(route.id, route.text.split(/\s+/).slice(1).indexOf('setpattern'));
  assert.equal(setter.text, 'prepend set');
  assert.deepEqual(from(setter.id, 0).map((b) => b.varname), ['rhythm_steps']);
});

/** The script's globals, for its constants. */
function env() {
  return loadDevice(null).context;
}
