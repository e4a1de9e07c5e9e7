'use strict';
/**
 * The device's behaviour in a simulated Live: connection light, progress and status, errors in plain
 * words, import of results (Live 12 clip slots and Arrangement, Live 11 fallback), the Intensity
 * recorder, and the Live rules it must respect (no LiveAPI before live.thisdevice, deferred writes).
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const { buildSet } = require('./fixtures');
const { loadDevice } = require('./max_env');
const { device, resultWav, runJob } = require('./device_kit');
const { NOTIFICATION_ERROR } = require('./lom_sim');

test('the script makes no LiveAPI object before live.thisdevice bangs', () => {
  const set = buildSet();
  const env = loadDevice(set.sim);
  assert.deepEqual(set.sim.console, []);
  env.send('generate', 1);
  assert.match(env.uiState.error, /still loading/);
  assert.deepEqual(set.sim.console, []);
});

test('the connection light follows pongs: on at the first pong, off after two unanswered pings', () => {
  const { env } = device();
  assert.equal(env.uiState.connected, 0);
  env.send('/ditto/pong', '0.1.0', 'builtin-tiny', 'cpu');
  assert.equal(env.uiState.connected, 1);
  assert.match(env.uiState.status, /Connected: ditto-bridge 0\.1\.0, model builtin-tiny on cpu/);
  const pings = () => env.osc.filter((m) => m.address === '/ditto/ping').length;
  const before = pings();
  env.clock.advance(2000);
  assert.equal(pings(), before + 1);
  assert.equal(env.uiState.connected, 1);
  env.clock.advance(4000);
  assert.equal(env.uiState.connected, 0);
  assert.match(env.uiState.status, /No answer from the daemon on port 9100: start it with 'ditto-bridge serve'/);
  env.send('/ditto/pong', '0.1.0', 'builtin-tiny', 'cpu');
  assert.equal(env.uiState.connected, 1);
});

test('progress drives the bar and the status line; done imports into the next empty slot, deferred', () => {
  const { set, env } = device();
  const j1 = runJob(env, 0);
  assert.equal(env.uiState.status, `Job ${j1} accepted: queued.`);
  env.send('/ditto/progress', j1, 0.25, 10, 0.0123);
  assert.equal(env.uiState.progress, 0.25);
  assert.equal(env.uiState.status, 'Optimizing: 25% (step 10, loss 0.012)');
  const wav = resultWav(set, 'generate_take1.wav', 4);
  env.send('/ditto/done', j1, wav);
  assert.equal(set.sim.writes.filter((w) => w.fn === 'ClipSlot.create_audio_clip').length, 0, 'import must be deferred');
  env.clock.flush();
  const created = set.sim.writes.filter((w) => w.fn === 'ClipSlot.create_audio_clip');
  assert.deepEqual(created, [{ fn: 'ClipSlot.create_audio_clip', path: 'live_set tracks 0 clip_slots 1', file_path: wav }]);
  assert.equal(env.uiState.progress, 1);
  assert.equal(env.uiState.status, 'Imported generate_take1.wav into Drums, slot 2');
  // warped to the set's tempo: 9.6 s at 100 BPM is 16 beats
  const clip = set.tracks.drums.clipSlots[1].clip;
  assert.equal(clip.props.warping, 1);
  const markers = clip.props.warp_markers;
  assert.ok(Math.abs(markers[1].beat_time - 16) < 1e-6, JSON.stringify(markers));
  assert.ok(Math.abs(markers[1].sample_time - 9.6) < 1e-6);
  // a second take of the same job goes to the following slot
  const wav2 = resultWav(set, 'generate_take2.wav', 4);
  env.send('/ditto/done', j1, wav2);
  env.clock.flush();
  assert.equal(set.tracks.drums.clipSlots[2].clip.props.file_path, wav2);
  assert.ok(!set.sim.console.includes(NOTIFICATION_ERROR));
});

test('Session: selected track imports into the track selected in Live', () => {
  const { set, env } = device();
  set.sim.selectedTrack = set.tracks.vox;
  env.send('place', 1);
  const j2 = runJob(env, 0);
  const wav = resultWav(set, 'sel.wav', 1);
  env.send('/ditto/done', j2, wav);
  env.clock.flush();
  assert.equal(set.tracks.vox.clipSlots[0].clip.props.file_path, wav);
});

test('Arrangement import puts a continuation one overlap before the end of the source range', () => {
  const { set, env } = device();
  set.sim.selectClip(set.clips.voxClip);
  env.send('place', 2);
  const j3 = runJob(env, 2);
  const wav = resultWav(set, 'cont.wav', 4);
  env.send('/ditto/done', j3, wav);
  env.clock.flush();
  // Vox take: unwarped, starts at beat 32 with its start marker at 1.0 s, end marker 7.0 s (10 beats at 100 BPM)
  // -> the range ends at song beat 42; one bar (4 beats) of overlap -> 38.
  const created = set.sim.writes.filter((w) => w.fn === 'Track.create_audio_clip');
  assert.deepEqual(created, [{ fn: 'Track.create_audio_clip', path: 'live_set tracks 0', file_path: wav, position: 38 }]);
  assert.match(env.uiState.status, /Imported cont\.wav into Drums in the Arrangement at beat 38/);
  // a second take goes right after the first
  const wav2 = resultWav(set, 'cont2.wav', 4);
  env.send('/ditto/done', j3, wav2);
  env.clock.flush();
  assert.equal(set.sim.writes.filter((w) => w.fn === 'Track.create_audio_clip')[1].position, 38 + 16);
});

test('Live 11: nothing is created; the status line gives the take\'s path, says why, and Show opens its folder', () => {
  const { set, env } = device({ liveVersion: '11.3.25' });
  const j4 = runJob(env, 0);
  const wav = resultWav(set, 'old take.wav', 1);
  env.send('/ditto/done', j4, wav);
  env.clock.flush();
  assert.equal(set.sim.writes.length, 0);
  assert.equal(env.uiState.status,
    `Saved ${wav}. Live 11 cannot create clips from a device: press Show to open its folder and drag it onto a track.`);
  assert.ok(env.console.some((line) => line.includes(wav)));
  assert.deepEqual(env.named, []);
  env.send('reveal', 0); // the button's release does nothing
  assert.deepEqual(env.named, []);
  env.send('reveal', 1);
  assert.deepEqual(env.named, [['max', 'launchbrowser', `file://${encodeURI(set.dir)}`]]);
  assert.equal(env.uiState.status, `Opened ${set.dir}: drag old take.wav onto a track.`);
});

test('a device on a MIDI track explains that the result needs an audio track', () => {
  const { set, env } = device({ deviceTrack: 'keys' });
  const j5 = runJob(env, 0);
  env.send('/ditto/done', j5, resultWav(set, 'm.wav', 1));
  env.clock.flush();
  assert.match(env.uiState.error, /Track 'Keys' is a MIDI track and cannot hold audio/);
});

test('a track without an empty slot asks for a new scene', () => {
  const { set, env } = device({ drumSlots: 1 });
  const j6 = runJob(env, 0);
  env.send('/ditto/done', j6, resultWav(set, 'full.wav', 1));
  env.clock.flush();
  assert.match(env.uiState.error, /Track 'Drums' has no empty clip slot: add a scene/);
});

test('daemon errors show in the error line; cancelled jobs say so', () => {
  const { env } = device();
  env.send('generate', 1);
  env.send('/ditto/error', '', 'song.tempo: must be a number greater than 0, got -3');
  assert.equal(env.uiState.error, 'song.tempo: must be a number greater than 0, got -3');
  const j7 = runJob(env, 0);
  env.send('cancel', 1);
  assert.deepEqual(env.osc.at(-1), { address: '/ditto/cancel', args: [j7] });
  env.send('/ditto/cancelled', j7);
  assert.equal(env.uiState.status, `Job ${j7} cancelled.`);
  env.send('cancel', 1);
  assert.equal(env.uiState.status, 'Nothing to cancel.');
});

test('the Intensity recorder samples the parameter against song time while the transport plays', () => {
  const { set, env } = device();
  const song = set.sim.song;
  env.send('record', 1);
  // stopped: nothing is recorded
  env.clock.advance(200);
  assert.equal(env.context.state.recorded.length, 0);
  song.props.is_playing = 1;
  // play 8 beats: a ramp from -36 dB to -16 dB over beats 32..36, then flat
  for (let t = 0; t <= 160; t += 1) {
    const beat = 32 + t * 0.05;
    song.props.current_song_time = beat;
    env.send('intensity', beat <= 36 ? -36 + (beat - 32) * 5 : -16);
    env.clock.advance(50);
  }
  song.props.is_playing = 0;
  env.send('record', 0);
  const rec = env.context.state.recorded;
  assert.ok(rec.length >= 3 && rec.length <= 6, `simplified to ${rec.length} breakpoints`);
  assert.match(env.uiState.status, /Intensity recorded: \d+ breakpoints/);
  // Generate with Curve = Recorded and Range = Arr. loop (32..48): breakpoints relative to beat 32
  env.send('curve', 2);
  env.send('range', 1);
  env.send('task', 0);
  env.send('generate', 1);
  const job = JSON.parse(env.osc.at(-1).args[0]);
  const bp = job.intensity.breakpoints;
  assert.ok(Math.abs(bp[0][0]) < 0.06 && Math.abs(bp[0][1] + 36) < 0.5, JSON.stringify(bp));
  const at4 = bp.find((p) => Math.abs(p[0] - 4) < 0.06);
  assert.ok(at4 && Math.abs(at4[1] + 16) < 0.5, JSON.stringify(bp));
  assert.ok(bp.every((p) => p[0] >= 0 && p[0] <= 16));
});

test('replaying a passage replaces what was recorded from that point on', () => {
  const { set, env } = device();
  const song = set.sim.song;
  env.send('record', 1);
  song.props.is_playing = 1;
  const play = (from, to, db) => {
    for (let beat = from; beat <= to; beat += 0.5) {
      song.props.current_song_time = beat;
      env.send('intensity', db);
      env.clock.advance(50);
    }
  };
  play(0, 8, -30);
  play(4, 8, -20);
  env.send('record', 0);
  const rec = env.context.state.recorded;
  const at = (b) => rec.filter((p) => p[0] <= b).at(-1)[1];
  assert.equal(at(3.5), -30);
  assert.equal(at(8), -20);
});

test('Curve = Automation with nothing selected and nothing recorded says Arrangement automation must be recorded', () => {
  const { env } = device();
  env.send('curve', 2);
  env.send('generate', 1);
  assert.equal(env.uiState.error, 'No Intensity automation to read: Live does not let a device read Arrangement automation, '
    + 'so arm Rec and play the set with the Intensity automation (the device records it as it plays), then press Generate. '
    + 'Or select a Session clip on this track whose envelope draws Intensity.');
  assert.equal(env.osc.filter((m) => m.address === '/ditto/generate').length, 0);
});

test('selecting a clip shows what the device will read, without writing to the set', () => {
  const { set, env } = device();
  set.sim.selectClip(set.clips.breakClip);
  assert.equal(env.uiState.status, 'Clip: Break (audio, warped, Session) · range 4–8 beats');
  set.sim.selectClip(set.clips.voxClip);
  assert.equal(env.uiState.status, 'Clip: Vox take (audio, unwarped, Arrangement) · range 1–7 seconds');
  assert.equal(set.sim.writes.length, 0);
  assert.ok(!set.sim.console.includes(NOTIFICATION_ERROR));
});

test('changing the length or the time signature rescales the breakpoint editor\'s domain (beats)', () => {
  const { set, env } = device();
  assert.equal(env.uiState.domain, 16);
  env.send('bars', 3);
  assert.equal(env.uiState.domain, 12);
  set.sim.song.props.signature_numerator = 6;
  set.sim.song.props.signature_denominator = 8;
  env.send('bars', 2);
  assert.equal(env.uiState.domain, 6);
});

test('Arrangement import follows the placement in the daemon\'s sidecar JSON when there is one', () => {
  const fs = require('fs');
  const { set, env } = device();
  set.sim.selectClip(set.clips.voxClip);
  env.send('place', 2);
  env.send('bars', 8);
  const j8 = runJob(env, 1);
  const wav = resultWav(set, 'inp.wav', 8);
  // the daemon centred the gap in a window starting 2.0 s into the (unwarped) clip's audio
  fs.writeFileSync(wav.replace(/\.wav$/, '.json'), JSON.stringify({
    ditto_bridge: { job_id: j8, take: 1, placement: { axis: 'clip_seconds', start: 2.0, length_beats: 32, tempo: 100 } },
  }));
  env.send('/ditto/done', j8, wav);
  env.clock.flush();
  const created = set.sim.writes.filter((w) => w.fn === 'Track.create_audio_clip');
  // the clip plays 1.0 s at song beat 32; 2.0 s is one second (5/3 beats at 100 BPM) later
  assert.equal(created.length, 1);
  assert.ok(Math.abs(created[0].position - (32 + 100 / 60)) < 1e-5, String(created[0].position));
});

test('Rec restored on (before live.thisdevice bangs) starts the recorder once the device is ready', () => {
  const set = buildSet();
  const env = loadDevice(set.sim);
  env.send('record', 1);
  env.deviceLoaded();
  set.sim.song.props.is_playing = 1;
  set.sim.song.props.current_song_time = 3;
  env.clock.advance(60);
  assert.deepEqual(Array.from(env.context.state.recorded, (p) => Array.from(p)), [[3, -20]]);
});

test('Fresh counts the Idea up, shows it and says what happens next; the Idea display follows', () => {
  const { env } = device();
  env.send('idea', 4);
  env.send('fresh', 0); // the button's release does nothing
  assert.equal(env.uiState.idea, undefined);
  env.send('fresh', 1);
  assert.equal(env.uiState.idea, 5);
  assert.equal(env.uiState.status, 'Fresh start: the next Generate begins idea 5 from new noise.');
  env.send('idea', 9999);
  env.send('fresh', 1);
  assert.equal(env.uiState.idea, 0, 'the Idea wraps at its maximum');
});

test('the status line says when a take continued from an earlier one (the sidecar\'s warm_start_from)', () => {
  const fs = require('fs');
  const { set, env } = device();
  const first = runJob(env, 0);
  const wav1 = resultWav(set, 'first.wav', 4);
  fs.writeFileSync(wav1.replace(/\.wav$/, '.json'), JSON.stringify({ ditto_bridge: { job_id: first, warm_start_from: null } }));
  env.send('/ditto/done', first, wav1);
  env.clock.flush();
  assert.equal(env.uiState.status, 'Imported first.wav into Drums, slot 2');
  const second = runJob(env, 0);
  const wav2 = resultWav(set, 'second.wav', 4);
  fs.writeFileSync(wav2.replace(/\.wav$/, '.json'), JSON.stringify({ ditto_bridge: { job_id: second, warm_start_from: first } }));
  env.send('/ditto/done', second, wav2);
  env.clock.flush();
  assert.equal(env.uiState.status, `Imported second.wav into Drums, slot 3 (continued from job ${first})`);
});

test('the status line carries the take\'s summary from /ditto/done: a missed tolerance and the gain, in words', () => {
  const fs = require('fs');
  const { set, env } = device();
  const missed = 'intensity missed by 1.3 (3.3 dB RMS against 2); asked -45.0 dB at 0.0 s; the music reaches -39.5 dB; 5.5 dB applied as gain';
  const first = runJob(env, 0);
  const wav1 = resultWav(set, 'first.wav', 4);
  fs.writeFileSync(wav1.replace(/\.wav$/, '.json'), JSON.stringify({ ditto_bridge: { job_id: first, warm_start_from: null } }));
  env.send('/ditto/done', first, wav1, missed);
  env.clock.flush();
  assert.equal(env.uiState.status, `Imported first.wav into Drums, slot 2 · ${missed}`);
  // with the warm-start note, the summary comes last; an empty summary (a job without controls) adds nothing
  const second = runJob(env, 0);
  const wav2 = resultWav(set, 'second.wav', 4);
  fs.writeFileSync(wav2.replace(/\.wav$/, '.json'), JSON.stringify({ ditto_bridge: { job_id: second, warm_start_from: first } }));
  env.send('/ditto/done', second, wav2, 'intensity within tolerance (1.4 dB RMS)');
  env.clock.flush();
  assert.equal(env.uiState.status, `Imported second.wav into Drums, slot 3 (continued from job ${first}) · intensity within tolerance (1.4 dB RMS)`);
  const third = runJob(env, 0);
  env.send('/ditto/done', third, resultWav(set, 'third.wav', 4), '');
  env.clock.flush();
  assert.equal(env.uiState.status, 'Imported third.wav into Drums, slot 4');
});

test('Live 11: the status line says where the take is, then its summary', () => {
  const { set, env } = device({ liveVersion: '11.3.25' });
  const id = runJob(env, 0);
  env.send('/ditto/done', id, resultWav(set, 'old.wav', 4), 'intensity missed by 0.5 (2.5 dB RMS against 2)');
  env.clock.flush();
  assert.match(env.uiState.status, /^Saved \S+old\.wav\. Live 11 cannot create clips from a device: .* · intensity missed by 0\.5 \(2\.5 dB RMS against 2\)$/);
});
