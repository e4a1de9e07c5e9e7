'use strict';
/**
 * The OSC messages the device sends for each task match docs/PROTOCOL.md: the address is in the
 * table, the argument types are the table's (as Max's udpsend types them), and the job JSON uses the
 * documented fields in Live units. The device runs as in Max (max_env.js) against the LOM simulator.
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const { buildSet } = require('./fixtures');
const { loadDevice } = require('./max_env');
const { loadProtocolTable, loadJobFields } = require('./protocol_table');

const TABLE = loadProtocolTable();
const JOB_FIELDS = loadJobFields();
const TOP_FIELDS = new Set([...JOB_FIELDS].map((f) => f.split('.')[0]));
const SONG_FIELDS = new Set([...JOB_FIELDS].filter((f) => f.startsWith('song.')).map((f) => f.slice(5)));

/** OSC type tag Max's udpsend gives a value coming out of the js object. */
function maxOscType(value) {
  if (typeof value === 'string') return 's';
  if (typeof value === 'number') return Number.isInteger(value) ? 'i' : 'f';
  throw new TypeError(`value ${value} cannot go out of a js outlet to udpsend`);
}

function assertMatchesTable(msg) {
  const spec = TABLE.requests[msg.address];
  assert.ok(spec, `${msg.address} is not a request address in docs/PROTOCOL.md`);
  assert.deepEqual(msg.args.map(maxOscType), spec.args, `${msg.address}: argument types`);
}

function assertDocumentedJob(job) {
  assert.match(job.lineage, /^[A-Za-z0-9_.-]{1,64}$/, 'lineage: 1 to 64 of A-Z a-z 0-9 _ - . (as id)');
  for (const key of Object.keys(job)) assert.ok(TOP_FIELDS.has(key), `job field '${key}' is not in PROTOCOL.md`);
  for (const key of Object.keys(job.song)) assert.ok(SONG_FIELDS.has(key), `song.${key} is not in PROTOCOL.md`);
  assert.ok(TABLE.tasks.includes(job.task));
  assert.ok(TABLE.qualities.includes(job.quality));
  assert.equal(typeof job.song.tempo, 'number');
  assert.ok(Number.isInteger(job.song.signature_numerator) && Number.isInteger(job.song.signature_denominator));
  assert.ok(Number.isInteger(job.song.sample_rate));
  assert.ok(Number.isInteger(job.seed) && Number.isInteger(job.variations) && job.length_bars >= 1);
}

/** Loads the device on the test set, as Live does: script first, then live.thisdevice bangs. */
function device(opts) {
  const set = buildSet(opts);
  const env = loadDevice(set.sim);
  env.deviceLoaded();
  env.send('samplerate', 48000);
  return { set, env };
}

/** Presses Generate with the given task index and returns the /ditto/generate job. */
function generate(env, taskIndex) {
  env.send('task', taskIndex);
  const before = env.osc.length;
  env.send('generate', 1);
  const sent = env.osc.slice(before).filter((m) => m.address === '/ditto/generate');
  assert.equal(sent.length, 1, `no /ditto/generate sent; error line: ${env.uiState.error}`);
  assertMatchesTable(sent[0]);
  const job = JSON.parse(sent[0].args[0]);
  assertDocumentedJob(job);
  return job;
}

test('the device constants name only addresses of the table, with the table\'s argument types', () => {
  const { env } = device();
  const ctx = env.context;
  for (const [address, types] of Object.entries(ctx.REQUEST_TYPES)) {
    assert.deepEqual(types.split(''), TABLE.requests[address].args, address);
  }
  for (const name of ['ADDR_PONG', 'ADDR_ACCEPTED', 'ADDR_CANCELLED', 'ADDR_PROGRESS', 'ADDR_DONE', 'ADDR_ERROR']) {
    assert.ok(TABLE.replies[ctx[name]], `${name} = ${ctx[name]} is not a reply in docs/PROTOCOL.md`);
  }
  assert.deepEqual(Array.from(ctx.TASKS), TABLE.tasks);
  assert.deepEqual(Array.from(ctx.QUALITIES), TABLE.qualities);
  assert.equal(ctx.DEFAULT_PORT, TABLE.default_port);
  assert.equal(ctx.DEFAULT_REPLY_PORT, TABLE.default_reply_port);
  assert.equal(ctx.PROTOCOL_VERSION, TABLE.version);
});

test('loading pings the daemon with /ditto/ping announcing the reply port', () => {
  const { env } = device();
  const ping = env.osc.find((m) => m.address === '/ditto/ping');
  assert.ok(ping);
  assertMatchesTable(ping);
  assert.deepEqual(ping.args, [TABLE.default_reply_port]);
});

test('generate: tags, length, quality, steps, seed and takes; no clip, range or notes', () => {
  const { env } = device();
  env.send('tags', 'dusty', 'funk,', 'drums');
  env.send('bars', 8);
  env.send('quality', 0);
  env.send('steps', 40);
  env.send('seed', 1234);
  env.send('variations', 3);
  const job = generate(env, 0);
  assert.match(job.id, /^m4l-[0-9a-z]+-\d+$/);
  assert.match(job.lineage, /^m4l-generate-s1234-i0-[0-9a-f]{8}$/);
  delete job.id;
  delete job.lineage;
  assert.deepEqual(job, {
    task: 'generate', name: 'generate', tags: 'dusty funk, drums',
    song: { tempo: 100, signature_numerator: 4, signature_denominator: 4, sample_rate: 48000 },
    length_bars: 8, quality: 'draft', seed: 1234, variations: 3, steps: 40,
  });
});

test('generate with Range = Arr. loop sends the arrangement loop in song beats', () => {
  const { env } = device();
  env.send('range', 1);
  const job = generate(env, 0);
  assert.deepEqual(job.range, { start: 32, end: 48, unit: 'beats' });
});

test('inpaint: the selected warped clip with its warp markers and its loop brace as the range', () => {
  const { set, env } = device();
  set.sim.selectClip(set.clips.breakClip);
  const job = generate(env, 1);
  assert.equal(job.task, 'inpaint');
  assert.equal(job.name, 'Break');
  assert.deepEqual(job.range, { start: 4, end: 8, unit: 'beats' });
  assert.deepEqual(job.clip, {
    is_audio_clip: true, file_path: set.files.breakWav, warping: true,
    warp_markers: [
      { beat_time: 0, sample_time: 0 },
      { beat_time: 13.333333, sample_time: 8 },
      { beat_time: 13.364583, sample_time: 8.01875 },
    ],
    loop_start: 4, loop_end: 8, start_marker: 0, end_marker: 13.333333, length: 4,
  });
  assert.equal(job.overlap_beats, undefined);
});

test('continue: clip, range and one bar of overlap', () => {
  const { set, env } = device();
  set.sim.selectClip(set.clips.breakClip);
  const job = generate(env, 2);
  assert.equal(job.task, 'continue');
  assert.deepEqual(job.range, { start: 4, end: 8, unit: 'beats' });
  assert.equal(job.overlap_beats, 4);
});

test('loop on an unwarped Arrangement clip: range in seconds, mapped from the arrangement loop', () => {
  const { set, env } = device();
  set.sim.selectClip(set.clips.voxClip);
  set.sim.song.props.loop_length = 8;
  env.send('range', 1);
  const job = generate(env, 3);
  assert.equal(job.task, 'loop');
  assert.equal(job.clip.warping, false);
  assert.deepEqual(job.clip.warp_markers, []);
  // the clip starts at song beat 32 with its start marker at 1.0 s; the loop is beats 32-40 at 100 BPM
  assert.deepEqual(job.range, { start: 1, end: 5.8, unit: 'seconds' });
  assert.equal(job.overlap_beats, 4);
});

test('melody: the MIDI clip\'s notes inside its loop brace, relative to the range start, muted ones flagged', () => {
  const { set, env } = device();
  set.sim.selectClip(set.clips.lead);
  set.clips.lead.props.loop_start = 1;
  set.clips.lead.props.loop_end = 5;
  const job = generate(env, 4);
  assert.equal(job.task, 'melody');
  assert.deepEqual(job.range, { start: 1, end: 5, unit: 'beats' });
  assert.deepEqual(job.notes, [
    { pitch: 64, start_time: 0, duration: 1, velocity: 90, mute: 0 },
    { pitch: 67, start_time: 1, duration: 2, velocity: 80, mute: 0 },
    { pitch: 72, start_time: 3, duration: 1, velocity: 70, mute: 0 },
  ]);
  assert.equal(job.clip.is_audio_clip, false);
  assert.equal(job.clip.file_path, undefined);
});

test('structure: every locator with its song position; the range starts at the first locator', () => {
  const { env } = device();
  env.send('bars', 16);
  const job = generate(env, 5);
  assert.deepEqual(job.cue_points, [
    { name: 'Intro', time: 0 }, { name: 'Verse 1', time: 16 }, { name: 'Chorus', time: 32 }, { name: 'Verse 2', time: 48 },
  ]);
  assert.deepEqual(job.range, { start: 0, end: 64, unit: 'beats' });
});

test('rhythm: the steps drawn in the device, or the selected drum clip, in Live units', () => {
  const { set, env } = device();
  env.send('pattern', 1, 0, 0.5, 0);
  env.send('swing', 20);
  const steps = generate(env, 6);
  assert.equal(steps.task, 'rhythm');
  assert.deepEqual(steps.rhythm, { steps: [1, 0, 0.5, 0, ...new Array(12).fill(0)], steps_per_beat: 4, swing: 0.2 });
  set.sim.selectClip(set.clips.lead);
  const notes = generate(env, 6);
  assert.deepEqual(notes.rhythm.notes.map((n) => n.start_time), [0, 1, 2, 4]);
  assert.equal(notes.rhythm.loop_beats, 8);
  set.sim.selectClip(set.clips.breakClip);
  const audio = generate(env, 6);
  assert.equal(audio.rhythm.clip.file_path, set.files.breakWav);
  assert.deepEqual(audio.rhythm.range, { start: 4, end: 8, unit: 'beats' });
});

test('a drawn intensity curve travels as dB breakpoints with the parameter range', () => {
  const { env } = device();
  env.send('curve', 1);
  env.send('breakpoints', 0, -30, 8, -15, 16, -20);
  const job = generate(env, 0);
  assert.deepEqual(job.intensity, { breakpoints: [[0, -30], [8, -15], [16, -20]], min: -39, max: -14, unit: 'db' });
});

test('cancel sends /ditto/cancel with the current job id as a string', () => {
  const { env } = device();
  const { id } = generate(env, 0);
  env.send('/ditto/accepted', id);
  env.send('cancel', 1);
  const msg = env.osc.at(-1);
  assert.deepEqual(msg, { address: '/ditto/cancel', args: [id] });
  assertMatchesTable(msg);
});

test('a job too big for one datagram goes to the inbox as a file and the message carries its path', () => {
  const { set, env } = device();
  const fs = require('fs');
  const notes = [];
  for (let i = 0; i < 400; i += 1) notes.push({ pitch: 60 + (i % 12), start_time: i * 0.02, duration: 0.02, velocity: 100, mute: 0 });
  set.clips.lead.props.notes = notes;
  set.sim.selectClip(set.clips.lead);
  env.send('inbox', set.dir);
  env.send('task', 4);
  env.send('generate', 1);
  const msg = env.osc.at(-1);
  assertMatchesTable(msg);
  assert.ok(msg.args[0].startsWith(set.dir) && msg.args[0].endsWith('.json'), msg.args[0]);
  const job = JSON.parse(fs.readFileSync(msg.args[0], 'utf8'));
  assert.equal(job.notes.length, 400);
  assertDocumentedJob(job);
});

test('a job too big for one datagram without an inbox is refused in plain words, nothing is sent', () => {
  const { set, env } = device();
  const notes = [];
  for (let i = 0; i < 400; i += 1) notes.push({ pitch: 60, start_time: i * 0.02, duration: 0.02, velocity: 100, mute: 0 });
  set.clips.lead.props.notes = notes;
  set.sim.selectClip(set.clips.lead);
  env.send('task', 4);
  const before = env.osc.length;
  env.send('generate', 1);
  assert.equal(env.osc.slice(before).filter((m) => m.address === '/ditto/generate').length, 0);
  assert.match(env.uiState.error, /too large for one OSC message .* Inbox/);
});

test('an arrangement loop reaching outside the clip is refused in plain words', () => {
  const { set, env } = device();
  set.sim.selectClip(set.clips.voxClip);
  env.send('range', 1);
  env.send('task', 3);
  const before = env.osc.length;
  env.send('generate', 1);
  assert.equal(env.osc.length, before);
  assert.match(env.uiState.error, /arrangement loop reaches outside the clip 'Vox take'/);
});

test('tasks that need a clip say which clip to select when none or the wrong kind is selected', () => {
  const { set, env } = device();
  env.send('task', 1);
  env.send('generate', 1);
  assert.match(env.uiState.error, /Inpaint needs an audio clip/);
  set.sim.selectClip(set.clips.lead);
  env.send('generate', 1);
  assert.match(env.uiState.error, /selected clip is a MIDI clip/);
  set.sim.selectClip(set.clips.breakClip);
  env.send('task', 4);
  env.send('generate', 1);
  assert.match(env.uiState.error, /Match melody needs a MIDI clip/);
  assert.equal(env.osc.filter((m) => m.address === '/ditto/generate').length, 0);
});

test('the overlap never exceeds half the rendered length; an inpaint gap must be shorter than it', () => {
  const { set, env } = device();
  set.sim.selectClip(set.clips.breakClip);
  env.send('bars', 1);
  const job = generate(env, 3);
  assert.equal(job.overlap_beats, 2);
  env.send('task', 1);
  const before = env.osc.length;
  env.send('generate', 1);
  assert.equal(env.osc.length, before);
  assert.match(env.uiState.error, /The gap \(4 beats\) must be shorter than the rendered length \(4 beats\): raise Bars/);
});

test('the lineage stays the same while one idea is tweaked: curve, tags, steps, length, loop brace', () => {
  const { set, env } = device();
  set.sim.selectClip(set.clips.breakClip);
  env.send('seed', 42);
  const first = generate(env, 1);
  env.send('curve', 1);
  env.send('breakpoints', 0, -30, 8, -6);
  env.send('tags', 'tighter');
  env.send('steps', 25);
  env.send('bars', 8);
  set.clips.breakClip.props.loop_start = 5;
  set.clips.breakClip.props.loop_end = 7;
  const second = generate(env, 1);
  assert.notDeepEqual(second.range, first.range);
  assert.ok(second.intensity && !first.intensity);
  assert.equal(second.lineage, first.lineage);
  assert.notEqual(second.id, first.id);
});

test('a new seed, another clip, another task or the Fresh button start a new lineage', () => {
  const { set, env } = device();
  set.sim.selectClip(set.clips.breakClip);
  env.send('seed', 42);
  const base = generate(env, 2).lineage;
  assert.match(base, /^m4l-continue-s42-i0-[0-9a-f]{8}$/);
  env.send('seed', 43);
  const reseeded = generate(env, 2).lineage;
  assert.match(reseeded, /^m4l-continue-s43-i0-/);
  env.send('seed', 42);
  assert.equal(generate(env, 2).lineage, base, 'back to the seed: back to its lineage');
  assert.match(generate(env, 1).lineage, /^m4l-inpaint-s42-i0-/, 'another task');
  const other = set.sim.addSessionClip(set.tracks.drums, 1, Object.assign({}, set.clips.breakClip.props, { name: 'Break 2' }));
  set.sim.selectClip(other);
  assert.notEqual(generate(env, 2).lineage, base, 'another clip');
  set.sim.selectClip(set.clips.breakClip);
  env.send('fresh', 1);
  const fresh = generate(env, 2).lineage;
  assert.match(fresh, /^m4l-continue-s42-i1-/);
  assert.equal(fresh.split('-').pop(), base.split('-').pop(), 'same clip and track');
  assert.equal(generate(env, 2).lineage, fresh, 'after Fresh, the next takes continue the new idea');
  env.send('idea', 0);
  assert.equal(generate(env, 2).lineage, base, 'dialling the Idea back returns to that idea');
});

test('without a clip, the lineage follows the range: the arrangement loop\'s start', () => {
  const { set, env } = device();
  env.send('range', 1);
  const atLoop = generate(env, 0).lineage;
  set.sim.song.props.loop_length = 8;
  assert.equal(generate(env, 0).lineage, atLoop, 'a shorter loop at the same start is the same idea');
  set.sim.song.props.loop_start = 48;
  assert.notEqual(generate(env, 0).lineage, atLoop);
  env.send('range', 0);
  set.sim.selectClip(set.clips.breakClip);
  const noRange = generate(env, 0).lineage;
  set.sim.selectClip(set.clips.lead);
  assert.equal(generate(env, 0).lineage, noRange, 'generate reads no clip: the selected clip does not matter');
});
