'use strict';
/** The device's pure functions: LOM values in, ranges, notes, curves and warp fixes out. */

const test = require('node:test');
const assert = require('node:assert/strict');
const { loadDevice } = require('./max_env');

const f = loadDevice(null).context;
const plain = (x) => JSON.parse(JSON.stringify(x));

test('beatsPerBar counts quarter notes: 4/4 -> 4, 6/8 -> 3, 7/4 -> 7', () => {
  assert.equal(f.beatsPerBar(4, 4), 4);
  assert.equal(f.beatsPerBar(6, 8), 3);
  assert.equal(f.beatsPerBar(7, 4), 7);
});

test('atom helpers read LiveAPI results: numbers, split symbols, id lists, dicts', () => {
  assert.equal(f.atomNumber([120]), 120);
  assert.equal(f.atomString(['my', 'clip']), 'my clip');
  assert.deepEqual(plain(f.atomIds(['id', 3, 'id', 0, 'id', 9])), [3, 9]);
  assert.deepEqual(plain(f.atomDict(['{"a":', '1}'])), { a: 1 });
  assert.equal(f.atomDict(['not json']), null);
});

test('clipRange: loop brace when looping, markers otherwise, on the clip\'s own axis', () => {
  const song = { tempo: 120, loop_start: 8, loop_length: 4 };
  const warped = { is_audio_clip: true, warping: true, looping: true, loop_start: 2, loop_end: 6, start_marker: 0, end_marker: 8 };
  assert.deepEqual(plain(f.clipRange(warped, 'clip', song)), { start: 2, end: 6, unit: 'beats' });
  const unwarped = { is_audio_clip: true, warping: false, looping: false, loop_start: 0, loop_end: 3, start_marker: 0.5, end_marker: 2.5 };
  assert.deepEqual(plain(f.clipRange(unwarped, 'clip', song)), { start: 0.5, end: 2.5, unit: 'seconds' });
  // Arrangement: clip at song beat 4 playing from 0.5 s; loop 8..12 beats at 120 BPM = 2 s after its start
  const arr = Object.assign({}, unwarped, { is_arrangement_clip: true, start_time: 4, end_marker: 5 });
  assert.deepEqual(plain(f.clipRange(arr, 'arrangement', song)), { start: 2.5, end: 4.5, unit: 'seconds' });
  assert.throws(() => f.clipRange(warped, 'arrangement', song), /only maps onto a clip in the Arrangement/);
  assert.throws(() => f.clipRange(Object.assign({}, warped, { loop_end: 2 }), 'clip', song), /range is empty/);
});

test('notesInRange cuts notes at the range edges and makes times relative to its start', () => {
  const notes = [
    { pitch: 60, start_time: 0.5, duration: 1, velocity: 100, mute: 0 },
    { pitch: 62, start_time: 1.5, duration: 4, velocity: 90, mute: 1 },
    { pitch: 64, start_time: 6, duration: 1, velocity: 80, mute: 0 },
  ];
  assert.deepEqual(plain(f.notesInRange(notes, 1, 4)), [
    { pitch: 60, start_time: 0, duration: 0.5, velocity: 100, mute: 0 },
    { pitch: 62, start_time: 0.5, duration: 2.5, velocity: 90, mute: 1 },
  ]);
});

test('simplifyBreakpoints keeps corners and drops points on straight lines', () => {
  const ramp = [];
  for (let i = 0; i <= 20; i += 1) ramp.push([i, i <= 10 ? -40 + 3 * i : -10]);
  assert.deepEqual(plain(f.simplifyBreakpoints(ramp, 0.25)), [[0, -40], [10, -10], [20, -10]]);
  assert.deepEqual(plain(f.simplifyBreakpoints([[0, 1]], 0.25)), [[0, 1]]);
});

test('recordIntensitySample replaces samples at or after a point playback jumps back to', () => {
  const rec = [];
  f.recordIntensitySample(rec, 0, -10);
  f.recordIntensitySample(rec, 1, -10);
  f.recordIntensitySample(rec, 2, -10);
  f.recordIntensitySample(rec, 1, -3);
  assert.deepEqual(plain(rec), [[0, -10], [1, -3]]);
});

test('breakpointsFromFunctionDump pairs x y values, sorts by beat and clamps to the dB range', () => {
  assert.deepEqual(plain(f.breakpointsFromFunctionDump([8, -20, 0, -80, 16, 3])), [[0, -39], [8, -20], [16, -14]]);
});

test('breakpointsFromRecording shifts song beats to the render start and keeps the render span', () => {
  const rec = [[30, -20], [32, -20], [40, -16], [50, -16]];
  assert.deepEqual(plain(f.breakpointsFromRecording(rec, 32, 16)), [[0, -20], [8, -16]]);
});

test('warpCorrection moves the last visible marker to sample_time x tempo / 60', () => {
  const markers = [{ beat_time: 0, sample_time: 0 }, { beat_time: 19.2, sample_time: 9.6 }, { beat_time: 19.25, sample_time: 9.625 }];
  assert.deepEqual(plain(f.warpCorrection(markers, 100)), { beat_time: 19.2, distance: 16 - 19.2 });
  assert.equal(f.warpCorrection([{ beat_time: 0, sample_time: 0 }, { beat_time: 16, sample_time: 9.6 }, { beat_time: 17, sample_time: 10 }], 100), null);
  assert.equal(f.warpCorrection([], 100), null);
});

test('generateMessage sends JSON inline up to the limit, else writes the inbox file and sends its path', () => {
  const small = { task: 'generate' };
  assert.deepEqual(plain(f.generateMessage(small, '', 'x.json', null)), { address: '/ditto/generate', args: ['{"task":"generate"}'] });
  const big = { tags: 'x'.repeat(7000) };
  const written = {};
  const msg = f.generateMessage(big, '/inbox/', 'job.json', (p, text) => { written[p] = text; });
  assert.deepEqual(plain(msg), { address: '/ditto/generate', args: ['/inbox/job.json'] });
  assert.equal(JSON.parse(written['/inbox/job.json']).tags.length, 7000);
  assert.throws(() => f.generateMessage(big, '', 'job.json', null), /too large for one OSC message/);
});

test('utf8Length counts bytes, not characters', () => {
  assert.equal(f.utf8Length('aé€'), 1 + 2 + 3);
});

test('firstEmptySlot and baseName', () => {
  assert.equal(f.firstEmptySlot([true, false, true, false], 0), 1);
  assert.equal(f.firstEmptySlot([true, true], 0), -1);
  assert.equal(f.baseName('/a/b/c.wav'), 'c.wav');
  assert.equal(f.baseName('C:\\x\\y.wav'), 'y.wav');
});

test('progressText shows percent, step and loss in plain words', () => {
  assert.equal(f.progressText(0.5, 35, 1.23456), 'Optimizing: 50% (step 35, loss 1.235)');
  assert.equal(f.progressText(1.2, 70, 0.0001234), 'Optimizing: 100% (step 70, loss 1.23e-4)');
});

test('placementSongBeat maps the sidecar placement onto the song', () => {
  const arrClip = { is_arrangement_clip: true, is_audio_clip: true, warping: true, looping: false, start_marker: 2, loop_start: 0, start_time: 16 };
  assert.equal(f.placementSongBeat({ axis: 'song_beats', start: 40 }, null, 120, 0), 40);
  assert.equal(f.placementSongBeat({ axis: 'clip_beats', start: 6, tempo: 120 }, arrClip, 120, 0), 20);
  const unwarped = Object.assign({}, arrClip, { warping: false, start_marker: 1 });
  assert.equal(f.placementSongBeat({ axis: 'clip_seconds', start: 3, tempo: 120 }, unwarped, 120, 0), 20);
  const session = Object.assign({}, arrClip, { is_arrangement_clip: false });
  assert.equal(f.placementSongBeat({ axis: 'clip_beats', start: 6 }, session, 120, 7), 7);
  assert.equal(f.placementSongBeat({ axis: 'none', start: 0 }, null, 120, 9), 9);
  assert.equal(f.placementSongBeat(null, null, 120, 9), 9);
  assert.equal(f.sidecarPath('/out/take.wav'), '/out/take.json');
});

test('nativePath turns Max-style macOS paths into POSIX paths and leaves others alone', () => {
  assert.equal(f.nativePath('Macintosh HD:/Users/me/inbox'), '/Volumes/Macintosh HD/Users/me/inbox');
  assert.equal(f.nativePath('Samples:/drums'), '/Volumes/Samples/drums');
  assert.equal(f.nativePath('/Users/me/inbox'), '/Users/me/inbox');
  assert.equal(f.nativePath('C:/Users/me/inbox'), 'C:/Users/me/inbox');
  assert.equal(f.nativePath('D:\\data\\inbox'), 'D:\\data\\inbox');
});

test('fnv1a gives the published FNV-1a 32-bit values as 8 hex digits', () => {
  assert.equal(f.fnv1a(''), '811c9dc5');
  assert.equal(f.fnv1a('a'), 'e40c292c');
  assert.equal(f.fnv1a('foobar'), 'bf9cf968');
});

test('lineageFor names task, seed and idea and hashes the place, within the daemon\'s id rule', () => {
  const place = 'track live_set tracks 0 clip live_set tracks 0 clip_slots 0 clip';
  const lineage = f.lineageFor('structure', 2147483647, 9999, place);
  assert.equal(lineage, `m4l-structure-s2147483647-i9999-${f.fnv1a(place)}`);
  assert.match(lineage, /^[A-Za-z0-9_.-]{1,64}$/);
  assert.notEqual(f.lineageFor('loop', 1, 0, place), f.lineageFor('loop', 1, 0, `${place} `));
});

test('clipPlace: a Session clip by its path, an Arrangement clip by its track and position, not its index', () => {
  assert.equal(f.clipPlace({ path: 'live_set tracks 1 clip_slots 0 clip', is_arrangement_clip: false }),
    'live_set tracks 1 clip_slots 0 clip');
  const arr = { path: 'live_set tracks 2 arrangement_clips 0', is_arrangement_clip: true, start_time: 32 };
  assert.equal(f.clipPlace(arr), 'live_set tracks 2 at 32');
  assert.equal(f.clipPlace(Object.assign({}, arr, { path: 'live_set tracks 2 arrangement_clips 3' })), f.clipPlace(arr));
});

test('warmStartText reads warm_start_from from a sidecar', () => {
  assert.equal(f.warmStartText({ ditto_bridge: { warm_start_from: 'm4l-a-1' } }), ' (continued from job m4l-a-1)');
  assert.equal(f.warmStartText({ ditto_bridge: { warm_start_from: null } }), '');
  assert.equal(f.warmStartText(null), '');
});

test('rescaleBreakpoints keeps each point\'s place in the render when its length changes', () => {
  assert.deepEqual(plain(f.rescaleBreakpoints([[0, -30], [8, -15], [16, -20]], 16, 12)), [[0, -30], [6, -15], [12, -20]]);
  assert.deepEqual(plain(f.rescaleBreakpoints([[4, -20]], 0, 12)), [[4, -20]]);
});

test('clipPlayPosition wraps into the loop brace of a looping clip and stops at the end marker of one that is not', () => {
  const looping = { looping: true, loop_start: 4, loop_end: 8, end_marker: 13 };
  assert.equal(f.clipPlayPosition(looping, 5), 5);
  assert.equal(f.clipPlayPosition(looping, 9.5), 5.5);
  assert.equal(f.clipPlayPosition(looping, 16), 4);
  assert.equal(f.clipPlayPosition(looping, 2), 2, 'before the loop brace: as it plays from the start marker');
  assert.equal(f.clipPlayPosition({ looping: false, loop_start: 0, loop_end: 4, end_marker: 10 }, 12), 10);
});

test('envelopeSamplePoints reads 16 points per bar over the render, on the clip\'s axis, the last just before a wrap', () => {
  const clip = { looping: true, loop_start: 4, loop_end: 8, end_marker: 13, is_audio_clip: true, warping: true };
  const pts = plain(f.envelopeSamplePoints(clip, 4, 8, 4, 120));
  assert.equal(pts.length, 2 * 16 + 1);
  assert.deepEqual(pts[1], { beat: 0.25, pos: 4.25 });
  assert.deepEqual(pts[16], { beat: 4, pos: 4 });
  assert.deepEqual(pts.at(-1), { beat: 8, pos: 8 });
  // an unwarped clip's axis is seconds: at 120 BPM a beat is half a second
  const unwarped = { looping: false, loop_start: 0, loop_end: 20, end_marker: 20, is_audio_clip: true, warping: false };
  assert.deepEqual(plain(f.envelopeSamplePoints(unwarped, 1, 4, 4, 120))[4], { beat: 1, pos: 1.5 });
  // 7/8: a bar is 3.5 beats, so a step is 3.5 / 16 beats; a length that is not a whole number of steps ends exactly
  const odd = plain(f.envelopeSamplePoints(clip, 4, 3.6, 3.5, 120));
  assert.equal(odd.at(-1).beat, 3.6);
  assert.ok(odd.length >= 17);
});

test('parameterValueToDb maps the parameter\'s range onto the dial\'s and clamps', () => {
  assert.equal(f.parameterValueToDb(-20, -39, -14), -20);
  assert.equal(f.parameterValueToDb(0.5, 0, 1), -26.5);
  assert.equal(f.parameterValueToDb(-80, -39, -14), -39);
});

test('valueAtPosition interpolates a recording and holds its ends', () => {
  const rec = [[4, -30], [6, -20], [8, -30]];
  assert.equal(f.valueAtPosition(rec, 5), -25);
  assert.equal(f.valueAtPosition(rec, 2), -30);
  assert.equal(f.valueAtPosition(rec, 9), -30);
  assert.ok(Number.isNaN(f.valueAtPosition([], 1)));
});

test('promptText joins words, keeps punctuation with the word before it, and reads a lone bang as empty', () => {
  assert.equal(f.promptText(['a', ',', 'b', ';', 'c']), 'a, b; c');
  assert.equal(f.promptText(['a,', 'b']), 'a, b');
  assert.equal(f.promptText(['bang']), '');
  assert.equal(f.promptText(['big', 'bang']), 'big bang');
  assert.equal(f.promptText([]), '');
});

test('curveStatusText says where the curve came from', () => {
  assert.equal(f.curveStatusText(null), '');
  assert.equal(f.curveStatusText({ source: 'editor', points: 3 }), 'intensity drawn in the editor (3 points)');
  assert.equal(f.curveStatusText({ source: 'clip envelope', clip: 'Break', points: 1 }), 'intensity from the Intensity envelope of clip \'Break\' (1 point)');
  assert.equal(f.curveStatusText({ source: 'recording', points: 5, note: 'why' }), 'intensity recorded while the set played (5 points); why');
});
