'use strict';
/** The LOM simulator answers as the Live Object Model reference and Max's LiveAPI describe. */

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { buildSet, writeWav } = require('./fixtures');
const { LiveSim, NOTIFICATION_ERROR, wavDurationSeconds } = require('./lom_sim');

function ready(opts) {
  const set = buildSet(opts);
  set.sim.markDeviceReady();
  return set;
}

test('LiveAPI made before live.thisdevice bangs has id 0 and Max prints the initialisation error', () => {
  const { sim } = buildSet();
  const api = new sim.LiveAPI('live_set');
  assert.equal(api.id, 0);
  assert.match(sim.console[0], /live\.thisdevice/);
});

test('get returns arrays: numbers, strings, child ids and lists of ids', () => {
  const { sim, tracks } = ready();
  const song = new sim.LiveAPI('live_set');
  assert.deepEqual(song.get('tempo'), [100]);
  assert.deepEqual(song.get('signature_numerator'), [4]);
  const cues = song.get('cue_points');
  assert.equal(cues.length, 8);
  assert.deepEqual(cues.filter((_, i) => i % 2 === 0), ['id', 'id', 'id', 'id']);
  assert.deepEqual(song.get('tracks'), ['id', tracks.drums.id, 'id', tracks.keys.id, 'id', tracks.vox.id]);
  const name = new sim.LiveAPI('live_set tracks 2');
  assert.deepEqual(name.get('name'), ['Vox']);
});

test('path is quoted, unquotedpath is not, and paths resolve through children and list indices', () => {
  const { sim, clips } = ready();
  const clip = new sim.LiveAPI('live_set tracks 0 clip_slots 0 clip');
  assert.equal(clip.id, clips.breakClip.id);
  assert.equal(clip.path, '"live_set tracks 0 clip_slots 0 clip"');
  assert.equal(clip.unquotedpath, 'live_set tracks 0 clip_slots 0 clip');
  assert.equal(clip.type, 'Clip');
  const byId = new sim.LiveAPI(`id ${clips.voxClip.id}`);
  assert.equal(byId.unquotedpath, 'live_set tracks 2 arrangement_clips 0');
  const empty = new sim.LiveAPI('live_set tracks 0 clip_slots 1 clip');
  assert.equal(empty.id, 0);
});

test('cue points come back sorted by time, getcount counts them, goto re-points the object', () => {
  const { sim } = ready();
  const api = new sim.LiveAPI('live_set');
  assert.equal(api.getcount('cue_points'), 4);
  api.goto('live_set cue_points 1');
  assert.equal(api.type, 'CuePoint');
  assert.deepEqual(api.get('name'), ['Verse 1']);
  assert.deepEqual(api.get('time'), [16]);
});

test('detail_clip and selected_track are children of live_set view', () => {
  const { sim, clips, tracks } = ready();
  sim.selectClip(clips.lead);
  const view = new sim.LiveAPI('live_set view');
  assert.deepEqual(view.get('detail_clip'), ['id', clips.lead.id]);
  assert.deepEqual(view.get('selected_track'), ['id', tracks.drums.id]);
  sim.selectClip(null);
  assert.deepEqual(view.get('detail_clip'), ['id', 0]);
});

test('warp_markers is a dict: one atom holding its JSON; audio-only properties fail on MIDI clips', () => {
  const { sim, clips } = ready();
  const audio = new sim.LiveAPI(`id ${clips.breakClip.id}`);
  const atoms = audio.get('warp_markers');
  assert.equal(atoms.length, 1);
  assert.deepEqual(JSON.parse(atoms[0]).warp_markers[1], { sample_time: 8.0, beat_time: 13.333333 });
  const midi = new sim.LiveAPI(`id ${clips.lead.id}`);
  assert.deepEqual(midi.get('file_path'), []);
  assert.match(sim.console.at(-1), /only available for audio clips/);
});

test('get_notes_extended returns the dict of notes overlapping the time span, as JSON', () => {
  const { sim, clips } = ready();
  const midi = new sim.LiveAPI(`id ${clips.lead.id}`);
  const dict = JSON.parse(midi.call('get_notes_extended', 0, 128, 2, 3.5));
  assert.deepEqual(dict.notes.map((n) => n.pitch), [67, 72, 48]);
  assert.ok(dict.notes.every((n) => 'note_id' in n && 'mute' in n && 'velocity' in n));
});

test('ClipSlot.create_audio_clip makes a clip from a real file in an empty slot of an audio track (Live 12)', () => {
  const { sim, dir, tracks } = ready();
  const wav = writeWav(path.join(dir, 'new.wav'), 2.0);
  const slot = new sim.LiveAPI('live_set tracks 0 clip_slots 1');
  const result = slot.call('create_audio_clip', wav);
  assert.equal(result, undefined, 'neither reference says what the call returns: the new clip is read back from the slot');
  assert.deepEqual(slot.get('has_clip'), [1]);
  assert.equal(new sim.LiveAPI('live_set tracks 0 clip_slots 1 clip').id, tracks.drums.clipSlots[1].clip.id);
  assert.equal(tracks.drums.clipSlots[1].clip.props.file_path, wav);
  assert.deepEqual(sim.writes.at(-1), { fn: 'ClipSlot.create_audio_clip', path: 'live_set tracks 0 clip_slots 1', file_path: wav });
  // occupied slot, MIDI track, missing file: errors in Max's console, nothing created
  slot.call('create_audio_clip', wav);
  assert.match(sim.console.at(-1), /not empty/);
  new sim.LiveAPI('live_set tracks 1 clip_slots 1').call('create_audio_clip', wav);
  assert.match(sim.console.at(-1), /not on an audio track/);
  new sim.LiveAPI('live_set tracks 0 clip_slots 2').call('create_audio_clip', path.join(dir, 'missing.wav'));
  assert.match(sim.console.at(-1), /file not found/);
});

test('Track.create_audio_clip places a clip in the Arrangement at a beat position (Live 12)', () => {
  const { sim, dir, tracks } = ready();
  const wav = writeWav(path.join(dir, 'arr.wav'), 1.0);
  new sim.LiveAPI('live_set tracks 2').call('create_audio_clip', wav, 64);
  const clip = tracks.vox.arrangementClips.at(-1);
  assert.equal(clip.props.start_time, 64);
  assert.equal(clip.props.is_arrangement_clip, 1);
});

test('create_audio_clip does not exist in Live 11', () => {
  const { sim, dir } = ready({ liveVersion: '11.3.20' });
  const wav = writeWav(path.join(dir, 'x.wav'), 1.0);
  const result = new sim.LiveAPI('live_set tracks 0 clip_slots 1').call('create_audio_clip', wav);
  assert.equal(result, undefined);
  assert.match(sim.console.at(-1), /invalid function create_audio_clip/);
  assert.equal(new sim.LiveAPI('live_app').call('get_major_version'), 11);
});

test('observing a property calls back with [name, value...]; writing to the set from the callback fails', () => {
  const { sim } = ready();
  const seen = [];
  const song = new sim.LiveAPI('live_set');
  const observer = new sim.LiveAPI(function onTempo(args) {
    seen.push(args);
    song.set('loop_start', 8);
  }, 'live_set');
  observer.property = 'tempo';
  song.set('tempo', 128);
  assert.deepEqual(seen, [['tempo', 100], ['tempo', 128]]);
  assert.equal(sim.console.filter((m) => m === NOTIFICATION_ERROR).length, 2);
  assert.deepEqual(song.get('loop_start'), [32]);
});

test('turning warping on places markers at the simulated tempo guess; move_warp_marker moves them', () => {
  const { sim, dir } = ready({ autoWarpBpm: 120 });
  const wav = writeWav(path.join(dir, 'w.wav'), 4.8);
  new sim.LiveAPI('live_set tracks 0 clip_slots 1').call('create_audio_clip', wav);
  const clip = new sim.LiveAPI('live_set tracks 0 clip_slots 1 clip');
  assert.deepEqual(clip.get('warping'), [0]);
  clip.set('warping', 1);
  let markers = JSON.parse(clip.get('warp_markers')[0]).warp_markers;
  assert.ok(Math.abs(markers[1].beat_time - 9.6) < 1e-9);
  clip.call('move_warp_marker', markers[1].beat_time, -1.6);
  markers = JSON.parse(clip.get('warp_markers')[0]).warp_markers;
  assert.ok(Math.abs(markers[1].beat_time - 8.0) < 1e-9);
  assert.ok(Math.abs(markers[1].sample_time - 4.8) < 1e-9);
});

test('wavDurationSeconds reads the RIFF header of a real file', () => {
  const { dir } = ready();
  const wav = writeWav(path.join(dir, 'd.wav'), 1.5, 48000, 1);
  assert.ok(Math.abs(wavDurationSeconds(wav) - 1.5) < 1e-6);
  fs.writeFileSync(path.join(dir, 'no.wav'), 'not a wav');
  assert.equal(wavDurationSeconds(path.join(dir, 'no.wav')), null);
});

test('read-only properties refuse set, as in Live', () => {
  const sim = new LiveSim();
  sim.markDeviceReady();
  sim.addTrack('A');
  const track = new sim.LiveAPI('live_set tracks 0');
  track.set('has_audio_input', 0);
  assert.match(sim.console.at(-1), /read-only/);
});

test('info lists create_audio_clip from Live 12 on, and not where the call is missing', () => {
  const twelve = ready();
  assert.match(new twelve.sim.LiveAPI('live_set tracks 0 clip_slots 0').info, /\nfunction create_audio_clip(\n|$)/);
  assert.match(new twelve.sim.LiveAPI('live_set tracks 0').info, /\nfunction create_audio_clip(\n|$)/);
  const early = ready({ audioClipApi: false });
  assert.doesNotMatch(new early.sim.LiveAPI('live_set tracks 0 clip_slots 0').info, /create_audio_clip/);
  const eleven = ready({ liveVersion: '11.3.25' });
  assert.doesNotMatch(new eleven.sim.LiveAPI('live_set tracks 0').info, /create_audio_clip/);
  const withId = ready({ createReturnsId: true });
  const wav = writeWav(path.join(withId.dir, 'r.wav'), 1.0);
  const result = new withId.sim.LiveAPI('live_set tracks 0 clip_slots 1').call('create_audio_clip', wav);
  assert.deepEqual(result, ['id', withId.tracks.drums.clipSlots[1].clip.id]);
});

test('a device inside racks: its canonical_parent is a Chain, the Chain\'s a RackDevice, up to the Track', () => {
  const { sim, tracks } = ready({ rackDepth: 2 });
  const device = new sim.LiveAPI('this_device');
  assert.equal(device.unquotedpath, 'live_set tracks 0 devices 0 chains 1 devices 0 chains 1 devices 0');
  const types = [];
  let api = device;
  for (let i = 0; i < 6; i += 1) {
    const [, id] = api.get('canonical_parent');
    api = new sim.LiveAPI(`id ${id}`);
    types.push(api.type);
    if (api.type === 'Track') break;
  }
  assert.deepEqual(types, ['Chain', 'RackDevice', 'Chain', 'RackDevice', 'Track']);
  assert.equal(api.id, tracks.drums.id);
  // a Chain has no clip slots: what a device that assumed a Track would have asked fails
  assert.equal(new sim.LiveAPI('this_device canonical_parent').getcount('clip_slots'), 0);
  assert.match(sim.console.at(-1), /no child clip_slots/);
});

test('the device lists its parameters, "Device On" first, with their ranges', () => {
  const { sim } = ready();
  const device = new sim.LiveAPI('this_device');
  assert.equal(device.getcount('parameters'), 2);
  const p = new sim.LiveAPI('this_device parameters 1');
  assert.equal(p.type, 'DeviceParameter');
  assert.deepEqual([p.get('name'), p.get('min'), p.get('max'), p.get('value')], [['Intensity'], [-39], [-14], [-20]]);
  assert.deepEqual(new sim.LiveAPI('this_device parameters 0').get('name'), ['Device On']);
});

test('Clip.automation_envelope is not reachable from Max unless the simulated Live exposes it', () => {
  const { sim, clips } = ready();
  const clip = new sim.LiveAPI(`id ${clips.breakClip.id}`);
  assert.doesNotMatch(clip.info, /automation_envelope/);
  const param = sim.deviceParameter('Intensity');
  assert.equal(clip.call('automation_envelope', 'id', param.id), undefined);
  assert.match(sim.console.at(-1), /invalid function automation_envelope/);
});

test('automation_envelope answers as Live documents it: the envelope, or id 0 when absent, in the Arrangement or on another track', () => {
  const { sim, clips, tracks } = ready({ clipEnvelopes: true });
  const param = sim.deviceParameter('Intensity');
  const breakApi = new sim.LiveAPI(`id ${clips.breakClip.id}`);
  assert.match(breakApi.info, /\nfunction automation_envelope(\n|$)/);
  assert.deepEqual(breakApi.call('automation_envelope', 'id', param.id), ['id', 0], 'no envelope yet');
  const env = sim.drawClipEnvelope(clips.breakClip, param, [[4, -36], [6, -16], [6, -30], [8, -20]]);
  assert.deepEqual(breakApi.call('automation_envelope', 'id', param.id), ['id', env.id]);
  const envApi = new sim.LiveAPI(`id ${env.id}`);
  assert.equal(envApi.call('value_at_time', 0), -36, 'before the first breakpoint: its value');
  assert.equal(envApi.call('value_at_time', 5), -26, 'straight lines between breakpoints');
  assert.equal(envApi.call('value_at_time', 6), -30, 'two breakpoints at one time: a step');
  assert.equal(envApi.call('value_at_time', 7), -25);
  assert.equal(envApi.call('value_at_time', 99), -20, 'after the last: its value');
  // an Arrangement clip: None even with an envelope
  sim.drawClipEnvelope(clips.voxClip, param, [[0, -30]]);
  assert.deepEqual(new sim.LiveAPI(`id ${clips.voxClip.id}`).call('automation_envelope', 'id', param.id), ['id', 0]);
  // a clip on another track than the parameter's device: None
  const other = sim.addSessionClip(tracks.vox, 0, { name: 'Other' });
  sim.drawClipEnvelope(other, param, [[0, -30]]);
  assert.deepEqual(new sim.LiveAPI(`id ${other.id}`).call('automation_envelope', 'id', param.id), ['id', 0]);
});

test('a new clip has sample_length and sample_rate; add_warp_marker adds a marker where possible; remove_warp_marker removes one', () => {
  const { sim, dir } = ready({ autoWarpBpm: 120 });
  const wav = writeWav(path.join(dir, 'm.wav'), 4.8, 48000, 2);
  new sim.LiveAPI('live_set tracks 0 clip_slots 1').call('create_audio_clip', wav);
  const clip = new sim.LiveAPI('live_set tracks 0 clip_slots 1 clip');
  assert.deepEqual(clip.get('sample_length'), [4.8 * 48000]);
  assert.deepEqual(clip.get('sample_rate'), [48000]);
  clip.call('add_warp_marker', { beat_time: 8, sample_time: 4.8 });
  assert.match(sim.console.at(-1), /not warped/);
  clip.set('warping', 1);
  const markers = () => JSON.parse(clip.get('warp_markers')[0]).warp_markers;
  assert.equal(markers().length, 3, 'start, end at the guessed tempo, and the hidden one after it');
  clip.call('add_warp_marker', { beat_time: 8, sample_time: 4.8 });
  assert.match(sim.console.at(-1), /not possible/, 'a marker already holds that sample time');
  clip.call('remove_warp_marker', markers()[1].beat_time);
  clip.call('add_warp_marker', { beat_time: 8, sample_time: 4.8 });
  const m = markers();
  assert.deepEqual(m.slice(0, 2), [{ beat_time: 0, sample_time: 0 }, { beat_time: 8, sample_time: 4.8 }]);
  assert.ok(Math.abs(m[2].beat_time - (8 + 1 / 32)) < 1e-9 && Math.abs(m[2].sample_time - (4.8 + 0.6 / 32)) < 1e-9, 'hidden marker follows the tempo');
  clip.call('add_warp_marker', { beat_time: 9, sample_time: 5 });
  assert.match(sim.console.at(-1), /not possible/, 'beyond the end of the sample');
  clip.call('remove_warp_marker', 0);
  assert.deepEqual(markers().length, 2);
  clip.call('remove_warp_marker', 8);
  assert.match(sim.console.at(-1), /at least one warp marker/);
});

test('the time signature and a clip\'s playing position are observable', () => {
  const { sim, clips } = ready();
  const seen = [];
  const sig = new sim.LiveAPI((args) => seen.push(Array.from(args)), 'live_set');
  sig.property = 'signature_numerator';
  sim.song.setProp('signature_numerator', 3);
  sig.property = '';
  sim.song.setProp('signature_numerator', 5);
  assert.deepEqual(seen, [['signature_numerator', 4], ['signature_numerator', 3]], 'an empty property stops observing');
  sim.playClip(clips.breakClip, 5.5);
  const clip = new sim.LiveAPI(`id ${clips.breakClip.id}`);
  assert.deepEqual([clip.get('is_playing'), clip.get('playing_position')], [[1], [5.5]]);
});
