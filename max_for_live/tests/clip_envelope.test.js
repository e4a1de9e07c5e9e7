'use strict';
/**
 * Curve = Automation: the device reads the Intensity envelope of the selected Session clip through the Live
 * Object Model (Clip.automation_envelope, Envelope.value_at_time), over the render, at 16 or more points per
 * bar, and sends it as the job's intensity curve, with no playback. Where Live does not let it (Arrangement
 * automation; a Live that does not expose automation_envelope to Max), it uses what Rec recorded and says so.
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { buildSet, writeWav } = require('./fixtures');
const { loadDevice } = require('./max_env');
const { envelopeValue } = require('./lom_sim');

const DIAL_RANGE_DB = 25; // -39 ... -14
const TOLERANCE_DB = 0.01 * DIAL_RANGE_DB; // 1 % of the dial's range

function device(opts) {
  const set = buildSet(Object.assign({ clipEnvelopes: true }, opts));
  const env = loadDevice(set.sim);
  env.deviceLoaded();
  env.send('curve', 2); // Automation
  return { set, env, param: set.sim.deviceParameter('Intensity') };
}

/** Presses Generate and returns the job sent (fails with the error line when nothing was sent). */
function generate(env, taskIndex) {
  env.send('task', taskIndex || 0);
  const before = env.osc.length;
  env.send('generate', 1);
  const sent = env.osc.slice(before).filter((m) => m.address === '/ditto/generate');
  assert.equal(sent.length, 1, `nothing sent; error line: ${env.uiState.error}`);
  return JSON.parse(sent[0].args[0]);
}

/** The sent curve (straight lines between breakpoints, as the daemon reads it) at `beat`. */
function curveAt(breakpoints, beat) {
  return envelopeValue(breakpoints, beat);
}

/**
 * Asserts the curve sent equals `expected(beat)` within 1 % of the dial's range at 64 points per bar (four
 * times denser than the device reads), skipping beats within `skip` of a listed discontinuity.
 */
function assertCurveFollows(breakpoints, lengthBeats, expected, discontinuities) {
  const worst = { beat: null, error: 0 };
  for (let i = 0; i <= lengthBeats * 16; i += 1) {
    const beat = i / 16;
    if ((discontinuities || []).some((d) => Math.abs(beat - d) < 0.26)) continue;
    const error = Math.abs(curveAt(breakpoints, beat) - expected(beat));
    if (error > worst.error) { worst.beat = beat; worst.error = error; }
  }
  assert.ok(worst.error <= TOLERANCE_DB, `off by ${worst.error.toFixed(3)} dB at beat ${worst.beat}: ${JSON.stringify(breakpoints)}`);
}

test('Generate sends the selected Session clip\'s Intensity envelope, read over the render without playback', () => {
  const { set, env, param } = device();
  const clip = set.clips.breakClip; // warped, looping, loop brace 4..8 beats, on the device's track
  const drawn = [[4, -36], [5, -16], [6.5, -30], [7.25, -14], [8, -36]];
  set.sim.drawClipEnvelope(clip, param, drawn);
  set.sim.selectClip(clip);
  const job = generate(env, 0);
  const bp = job.intensity.breakpoints;
  assert.deepEqual([job.intensity.min, job.intensity.max, job.intensity.unit], [-39, -14, 'db']);
  // 4 bars = 16 beats; render beat x plays clip beat 4 + (x mod 4): the loop brace repeats with its envelope
  assertCurveFollows(bp, 16, (beat) => envelopeValue(drawn, 4 + (beat % 4)));
  assert.equal(bp[0][0], 0);
  assert.equal(bp.at(-1)[0], 16);
  // read at 16 points per bar or more, inside the loop brace, with no transport running
  const reads = set.sim.reads.filter((r) => r.fn === 'Envelope.value_at_time');
  assert.ok(reads.length >= 16 * 4 + 1, `${reads.length} reads`);
  assert.ok(reads.every((r) => r.time >= 4 && r.time < 8 + 1e-9), JSON.stringify(reads.map((r) => r.time)));
  assert.equal(set.sim.song.props.is_playing, 0);
  // straight stretches are sent as few points: fewer than read, and at least the drawn corners
  assert.ok(bp.length < reads.length && bp.length >= 4 * 4, `${bp.length} breakpoints`);
  assert.equal(env.uiState.status, `Sent Generate to the daemon (intensity from the Intensity envelope of clip 'Break' (${bp.length} points)): waiting for it to accept.`);
  assert.equal(set.sim.writes.length, 0, 'reading an envelope writes nothing');
});

test('the envelope follows the render\'s length and the time signature: at least 16 points per bar in 7/8', () => {
  const { set, env, param } = device();
  set.sim.song.setProp('signature_numerator', 7);
  set.sim.song.setProp('signature_denominator', 8);
  env.send('bars', 3); // 3 bars of 7/8 = 10.5 beats
  const clip = set.clips.breakClip;
  clip.props.looping = 0; // plays from the start marker (0) to the end marker (13.333 beats)
  const drawn = [[0, -39], [10.5, -14]];
  set.sim.drawClipEnvelope(clip, param, drawn);
  set.sim.selectClip(clip);
  const before = set.sim.reads.length;
  const job = generate(env, 0);
  assert.ok(set.sim.reads.length - before >= 16 * 3 + 1);
  assertCurveFollows(job.intensity.breakpoints, 10.5, (beat) => envelopeValue(drawn, beat));
  assert.deepEqual(job.intensity.breakpoints, [[0, -39], [10.5, -14]], 'a straight ramp is sent as its two ends');
});

test('a clip that does not loop holds its envelope\'s value past its end marker', () => {
  const { set, env, param } = device();
  const clip = set.clips.breakClip;
  clip.props.looping = 0;
  clip.props.start_marker = 2;
  clip.props.end_marker = 10;
  // the envelope goes on past the end marker, but Live stops playing the clip there
  const drawn = [[2, -30], [10, -20], [12, -39]];
  set.sim.drawClipEnvelope(clip, param, drawn);
  set.sim.selectClip(clip);
  const job = generate(env, 0); // 16 beats from the start marker
  assertCurveFollows(job.intensity.breakpoints, 16, (beat) => envelopeValue(drawn, Math.min(2 + beat, 10)));
});

test('Continue reads the envelope from where its output starts: one overlap before the end of the loop brace', () => {
  const { set, env, param } = device();
  const clip = set.clips.breakClip; // loop brace 4..8; Continue renders from 8 - 4 (one bar of overlap) = 4
  clip.props.loop_start = 2;
  clip.props.loop_end = 10; // continue's output starts at 10 - 4 = 6 on the clip, then the loop wraps at 10
  const drawn = [[2, -20], [6, -30], [10, -20]];
  set.sim.drawClipEnvelope(clip, param, drawn);
  set.sim.selectClip(clip);
  const job = generate(env, 2);
  assert.equal(job.task, 'continue');
  const expected = (beat) => {
    let pos = 6 + beat;
    while (pos >= 10) pos -= 8;
    return envelopeValue(drawn, pos);
  };
  assertCurveFollows(job.intensity.breakpoints, 16, expected);
  assert.equal(job.intensity.breakpoints[0][1], -30);
});

test('an unwarped clip\'s envelope is read on its own axis, in seconds', () => {
  const { set, env, param } = device();
  const wav = writeWav(path.join(set.dir, 'loose.wav'), 12.0, 44100, 2);
  const loose = set.sim.addSessionClip(set.tracks.drums, 1, {
    name: 'Loose', is_audio_clip: 1, file_path: wav, warping: 0, looping: 0,
    loop_start: 0, loop_end: 12, start_marker: 1, end_marker: 12,
  });
  const drawn = [[1, -36], [4, -16], [12, -26]]; // seconds
  set.sim.drawClipEnvelope(loose, param, drawn);
  set.sim.selectClip(loose);
  const job = generate(env, 0);
  // 100 BPM: render beat b is b * 0.6 s after the start marker
  assertCurveFollows(job.intensity.breakpoints, 16, (beat) => envelopeValue(drawn, Math.min(1 + beat * 0.6, 12)));
});

test('a warped clip\'s envelope is read in clip beats, whatever the tempo', () => {
  const { set, env, param } = device();
  set.sim.song.setProp('tempo', 133);
  const clip = set.clips.breakClip;
  const drawn = [[4, -14], [8, -39]];
  set.sim.drawClipEnvelope(clip, param, drawn);
  set.sim.selectClip(clip);
  const job = generate(env, 0);
  assertCurveFollows(job.intensity.breakpoints, 16, (beat) => envelopeValue(drawn, beat === 16 ? 8 : 4 + (beat % 4)), [4, 8, 12]);
});

test('a parameter range other than the dial\'s is mapped onto it', () => {
  const { set, env, param } = device();
  param.props.min = 0;
  param.props.max = 1;
  set.sim.drawClipEnvelope(set.clips.breakClip, param, [[4, 0], [8, 1]]);
  set.sim.selectClip(set.clips.breakClip);
  const bp = generate(env, 0).intensity.breakpoints;
  assert.deepEqual(bp[0], [0, -39]);
  assert.ok(Math.abs(curveAt(bp, 2) - (-39 + 12.5)) <= TOLERANCE_DB);
});

test('no envelope on the selected clip and nothing recorded: the error says how to draw one or record', () => {
  const { set, env } = device();
  set.sim.selectClip(set.clips.breakClip);
  env.send('generate', 1);
  assert.equal(env.uiState.error, 'Clip \'Break\' has no Intensity envelope: draw one in its Envelopes box (this device, control '
    + 'Intensity) and press Generate, or arm Rec and play the set with the Intensity automation (the device records it as it '
    + 'plays), then press Generate.');
  assert.equal(env.osc.filter((m) => m.address === '/ditto/generate').length, 0);
});

/** Records the Intensity dial while the set plays song beats `from`..`to`, following `dbAt(beat)`. */
function recordSet(env, song, from, to, dbAt) {
  env.send('record', 1);
  song.props.is_playing = 1;
  for (let beat = from; beat <= to + 1e-9; beat += 0.05) {
    song.props.current_song_time = beat;
    env.send('intensity', dbAt(beat));
    env.clock.advance(50);
  }
  song.props.is_playing = 0;
  env.send('record', 0);
}

test('without an envelope the recording is used, and the status line says why', () => {
  const { set, env } = device();
  env.send('range', 1); // the arrangement loop, 32..48
  recordSet(env, set.sim.song, 32, 48, (beat) => (beat < 40 ? -30 : -18));
  set.sim.selectClip(set.clips.breakClip);
  const job = generate(env, 0);
  assert.ok(Math.abs(curveAt(job.intensity.breakpoints, 4) + 30) < 0.5 && Math.abs(curveAt(job.intensity.breakpoints, 12) + 18) < 0.5);
  const n = job.intensity.breakpoints.length;
  assert.equal(env.uiState.status, `Sent Generate to the daemon (intensity recorded while the set played (${n} points); `
    + 'clip \'Break\' has no Intensity envelope): waiting for it to accept.');
});

test('Arrangement automation: the device says it can only record it, and uses the recording', () => {
  const { set, env } = device();
  recordSet(env, set.sim.song, 32, 48, () => -25);
  set.sim.selectClip(set.clips.voxClip); // an Arrangement clip: Live gives no envelope for it
  env.send('range', 1);
  const job = generate(env, 0);
  assert.ok(job.intensity.breakpoints.every((p) => Math.abs(p[1] + 25) < 0.01));
  assert.match(env.uiState.status, /intensity recorded while the set played \(\d+ points?\); Live does not let a device read Arrangement automation, only record it\)/);
});

test('a clip on another track: its envelopes belong to that track\'s devices, and the error says so', () => {
  const { set, env, param } = device();
  const other = set.sim.addSessionClip(set.tracks.vox, 0, { name: 'Vox loop' });
  set.sim.drawClipEnvelope(other, param, [[0, -20]]);
  set.sim.selectClip(other);
  env.send('generate', 1);
  assert.match(env.uiState.error, /^Clip 'Vox loop' is on another track, and a clip's envelopes belong to the devices on its own track/);
});

test('a Live that does not let devices read envelopes: playing the clip with Rec armed records it on the clip\'s axis', () => {
  const { set, env, param } = device({ clipEnvelopes: false });
  const clip = set.clips.breakClip; // loop brace 4..8
  const drawn = [[4, -36], [6, -20], [8, -36]];
  set.sim.drawClipEnvelope(clip, param, drawn); // drawn in Live, but unreadable here
  set.sim.selectClip(clip);
  env.send('generate', 1);
  assert.equal(env.uiState.error, 'This version of Live does not let a device read clip envelopes: arm Rec and play clip '
    + '\'Break\' once (the device records Intensity as the clip plays), then press Generate.');
  // Rec, then the clip plays one pass of its loop: Live moves the dial along the envelope
  env.send('record', 1);
  assert.equal(env.uiState.status, 'Recording Intensity: play the set or clip \'Break\'.');
  set.sim.song.props.is_playing = 1;
  for (let pos = 4; pos < 8 + 1e-9; pos += 0.05) {
    set.sim.song.props.current_song_time = 100 + pos;
    set.sim.playClip(clip, pos);
    env.send('intensity', envelopeValue(drawn, pos));
    env.clock.advance(50);
  }
  set.sim.song.props.is_playing = 0;
  set.sim.playClip(clip, null);
  env.send('record', 0);
  const job = generate(env, 0);
  // the recorder samples every 50 ms and keeps points 0.25 dB off a straight line: within 1 % where it sampled
  assertCurveFollows(job.intensity.breakpoints, 16, (beat) => envelopeValue(drawn, 4 + (beat % 4)), [0, 4, 8, 12, 16]);
  assert.match(env.uiState.status, /\(intensity recorded while clip 'Break' played \(\d+ points\); this version of Live does not let a device read clip envelopes\)/);
});
