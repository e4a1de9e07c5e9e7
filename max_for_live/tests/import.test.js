'use strict';
/**
 * Importing a take as Live does it: the device checks that create_audio_clip exists (not the version
 * number), reads the new clip back from its slot or from the track's arrangement clips (Live's answer to the
 * call is not relied upon), warps it with add_warp_marker at (beats, seconds), finds its track from inside a
 * rack, falls back to showing the file where Live cannot create clips, and stops its Tasks when deleted.
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { writeWav } = require('./fixtures');
const { device, resultWav, runJob } = require('./device_kit');

const markersOf = (clip) => clip.props.warp_markers.map((m) => [m.beat_time, m.sample_time]);

test('Session import reads the new clip back from its slot when create_audio_clip returns nothing, and warps it', () => {
  const { set, env } = device(); // the simulated call returns nothing
  const id = runJob(env, 0);
  const wav = resultWav(set, 'take.wav', 4); // 9.6 s at 100 BPM = 16 beats
  env.send('/ditto/done', id, wav);
  env.clock.flush();
  assert.equal(env.uiState.status, 'Imported take.wav into Drums, slot 2');
  assert.equal(env.uiState.error, ' ');
  const clip = set.tracks.drums.clipSlots[1].clip;
  assert.equal(clip.props.warping, 1);
  // Live's own markers (its tempo guess: 120 BPM here) gave way to one marker at (16 beats, 9.6 s)
  assert.deepEqual(markersOf(clip).slice(0, 2), [[0, 0], [16, 9.6]]);
  assert.ok(set.sim.writes.some((w) => w.fn === 'Clip.add_warp_marker' && w.beat_time === 16 && Math.abs(w.sample_time - 9.6) < 1e-9));
  assert.ok(!set.sim.writes.some((w) => w.fn === 'Clip.move_warp_marker'), 'no guess about where Live put its markers');
  assert.deepEqual([clip.props.end_marker, clip.props.loop_end], [16, 16], 'the clip ends where the take ends');
});

test('the same when create_audio_clip answers with the clip\'s id', () => {
  const { set, env } = device({ createReturnsId: true, autoWarpBpm: 93 });
  const id = runJob(env, 0);
  env.send('/ditto/done', id, resultWav(set, 'take.wav', 2));
  env.clock.flush();
  assert.deepEqual(markersOf(set.tracks.drums.clipSlots[1].clip).slice(0, 2), [[0, 0], [8, 4.8]]);
});

test('Arrangement import finds the new clip on the track at the target time, among the track\'s other clips', () => {
  const { set, env } = device();
  // an earlier take of another file on the same track, and one of the same name further on
  const older = set.sim.addArrangementClip(set.tracks.drums, {
    name: 'older', file_path: writeWav(path.join(set.dir, 'older.wav'), 2), warping: 0, start_time: 0,
    loop_start: 0, loop_end: 2, start_marker: 0, end_marker: 2,
  });
  set.sim.selectClip(set.clips.voxClip);
  env.send('place', 2);
  const id = runJob(env, 2); // continue: one overlap before the end of the Vox take's range, song beat 38
  const wav = resultWav(set, 'cont.wav', 4);
  env.send('/ditto/done', id, wav);
  env.clock.flush();
  assert.match(env.uiState.status, /^Imported cont\.wav into Drums in the Arrangement at beat 38/);
  const made = set.tracks.drums.arrangementClips.find((c) => c.props.file_path === wav);
  assert.equal(made.props.start_time, 38);
  assert.deepEqual(markersOf(made).slice(0, 2), [[0, 0], [16, 9.6]]);
  assert.equal(older.props.warping, 0, 'the other clip is left alone');
});

test('an early Live 12 without create_audio_clip: the status line gives the take\'s path and says why', () => {
  const { set, env } = device({ liveVersion: '12.0.0', audioClipApi: false });
  const id = runJob(env, 0);
  const wav = resultWav(set, 'early.wav', 1);
  env.send('/ditto/done', id, wav);
  env.clock.flush();
  assert.equal(set.sim.writes.length, 0);
  assert.equal(env.uiState.status,
    `Saved ${wav}. This version of Live cannot create clips from a device: press Show to open its folder and drag it onto a track.`);
  env.send('reveal', 1);
  assert.deepEqual(env.named.at(-1), ['max', 'launchbrowser', `file://${encodeURI(set.dir)}`]);
});

test('Show before any take says so; folder URLs carry spaces and Windows drives', () => {
  const { env } = device();
  env.send('reveal', 1);
  assert.equal(env.uiState.status, 'No take yet: its folder opens here once the daemon has sent one.');
  assert.deepEqual(env.named, []);
  const f = env.context;
  assert.equal(f.fileUrl('/Users/me/ditto outbox'), 'file:///Users/me/ditto%20outbox');
  assert.equal(f.fileUrl('C:\\Users\\me\\outbox #1'), 'file:///C:/Users/me/outbox%20%231');
  assert.equal(f.folderOf('C:\\Users\\me\\take.wav'), 'C:\\Users\\me');
  assert.equal(f.folderOf('/a/b/take.wav'), '/a/b');
});

test('a device inside racks finds its track: the job\'s lineage and the import use the Track, not the Chain', () => {
  const flat = device();
  const nested = device({ rackDepth: 2 });
  flat.set.sim.selectClip(flat.set.clips.breakClip);
  nested.set.sim.selectClip(nested.set.clips.breakClip);
  const lineage = (env) => {
    env.send('task', 2);
    env.send('generate', 1);
    return JSON.parse(env.osc.filter((m) => m.address === '/ditto/generate').at(-1).args[0]).lineage;
  };
  assert.equal(lineage(nested.env), lineage(flat.env), 'same track, same clip: same lineage');
  const id = runJob(nested.env, 0);
  const wav = resultWav(nested.set, 'racked.wav', 1);
  nested.env.send('/ditto/done', id, wav);
  nested.env.clock.flush();
  assert.equal(nested.env.uiState.status, 'Imported racked.wav into Drums, slot 2');
  assert.equal(nested.set.tracks.drums.clipSlots[1].clip.props.file_path, wav);
  assert.equal(nested.env.context.deviceTrackPath(), 'live_set tracks 0');
});

test('removing the device stops its Tasks: no ping, no recording, no import afterwards', () => {
  const { set, env } = device();
  const id = runJob(env, 0);
  env.send('record', 1);
  set.sim.song.props.is_playing = 1;
  env.send('/ditto/done', id, resultWav(set, 'late.wav', 1)); // the import waits for its Task
  const pings = env.osc.filter((m) => m.address === '/ditto/ping').length;
  env.deleteDevice();
  env.clock.advance(10000);
  assert.equal(env.osc.filter((m) => m.address === '/ditto/ping').length, pings);
  assert.equal(set.sim.writes.length, 0, 'the pending import did not run');
  assert.deepEqual(env.context.state.recorded.length, 0);
  assert.equal(env.clock.queue.length, 0, 'no Task left scheduled');
  // the clip-view observer let go: selecting a clip no longer reaches the device
  const before = env.uiLog.length;
  set.sim.selectClip(set.clips.breakClip);
  assert.equal(env.uiLog.length, before);
});

test('import Tasks are kept until they have run', () => {
  const { set, env } = device();
  const id = runJob(env, 0);
  env.send('/ditto/done', id, resultWav(set, 'a.wav', 1));
  env.send('/ditto/done', id, resultWav(set, 'b.wav', 1));
  assert.equal(env.context.state.importTasks.length, 2);
  env.clock.flush();
  assert.equal(env.context.state.importTasks.length, 0);
  assert.equal(set.tracks.drums.clipSlots[2].clip.props.file_path, path.join(set.dir, 'b.wav'));
});
