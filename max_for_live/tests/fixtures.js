'use strict';
/** A small Live set for the tests: real WAV files on disk, tracks, clips, notes and locators. */

const fs = require('fs');
const os = require('os');
const path = require('path');
const { LiveSim } = require('./lom_sim');

/** A 16-bit PCM WAV file's bytes: the 44-byte header, then `data` (interleaved little-endian samples). */
function pcmWav(data, sampleRate, channels) {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/** Writes a 16-bit PCM WAV of a 220 Hz sine: `seconds` long at `sampleRate`, `channels` channels. */
function writeWav(file, seconds, sampleRate = 44100, channels = 2) {
  const frames = Math.round(seconds * sampleRate);
  const data = Buffer.alloc(frames * channels * 2);
  for (let i = 0; i < frames; i += 1) {
    const v = Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / sampleRate));
    for (let c = 0; c < channels; c += 1) data.writeInt16LE(v, (i * channels + c) * 2);
  }
  fs.writeFileSync(file, pcmWav(data, sampleRate, channels));
  return file;
}

/**
 * Writes a 16-bit PCM WAV of a click track, a drum loop's stand-in: `seconds` long, a 20 ms burst of decaying
 * noise (fixed seed) every `interval` seconds from 0, mono at `sampleRate`.
 */
function writeClickWav(file, seconds, interval, sampleRate = 44100) {
  const frames = Math.round(seconds * sampleRate);
  const burst = Math.round(0.02 * sampleRate);
  const data = Buffer.alloc(frames * 2);
  let seed = 12345;
  const noise = () => { seed = (seed * 16807) % 2147483647; return seed / 1073741823.5 - 1; }; // Park-Miller
  for (let k = 0; k * interval < seconds; k += 1) {
    const at = Math.round(k * interval * sampleRate);
    for (let i = 0; i < burst && at + i < frames; i += 1) {
      data.writeInt16LE(Math.round(20000 * noise() * Math.exp(-i / (burst / 5))), (at + i) * 2);
    }
  }
  fs.writeFileSync(file, pcmWav(data, sampleRate, 1));
  return file;
}

const createdDirs = [];
process.on('exit', () => {
  for (const dir of createdDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A temporary folder, removed when the test process exits. */
function tempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix || 'ditto-m4l-'));
  createdDirs.push(dir);
  return dir;
}

/**
 * The test set, at 100 BPM in 4/4:
 *   track 0 "Drums"  audio, holds the device; session slot 0: "Break" (warped, loop brace 4-8 beats,
 *                    an 8 s file at 100 BPM: warp markers 0->0 s, 13.333 beats->8 s); slot 1 empty.
 *   track 1 "Keys"   MIDI; session slot 0: "Lead" (loop brace 0-8 beats) with 5 notes, one muted.
 *   track 2 "Vox"    audio; Arrangement clip "Vox take" at song beat 32, unwarped (positions in seconds,
 *                    markers 1.0-7.0 s of a 9 s file).
 *   locators: Intro at 0, Verse 1 at 16, Chorus at 32, Verse 2 at 48; arrangement loop 32-48.
 * The device has its Intensity parameter (-39 to -14 dB, at -20) after "Device On".
 * Options: liveVersion, autoWarpBpm, drumSlots, deviceTrack ('keys'), rackDepth (the device inside that many
 * nested racks on its track), and the simulator's audioClipApi, createReturnsId, clipEnvelopes.
 */
function buildSet(opts) {
  const o = opts || {};
  const dir = o.dir || tempDir();
  const sim = new LiveSim({
    liveVersion: o.liveVersion || '12.1.0', tempo: 100, loop: 1, loop_start: 32, loop_length: 16,
    autoWarpBpm: o.autoWarpBpm || 120, audioClipApi: o.audioClipApi, createReturnsId: o.createReturnsId,
    clipEnvelopes: o.clipEnvelopes,
  });
  const breakWav = writeWav(path.join(dir, 'break.wav'), 8.0, 44100, 2);
  const voxWav = writeWav(path.join(dir, 'vox take.wav'), 9.0, 44100, 1);
  const drums = sim.addTrack('Drums', { audio: true, slots: o.drumSlots || 4 });
  const keys = sim.addTrack('Keys', { audio: false, slots: 4 });
  const vox = sim.addTrack('Vox', { audio: true, slots: 4 });
  let holder = o.deviceTrack === 'keys' ? keys : drums;
  for (let depth = 0; depth < (o.rackDepth || 0); depth += 1) holder = sim.addRack(holder, `Rack ${depth + 1}`, 2).chains[1];
  sim.placeDevice(holder, 'ditto-bridge', { parameters: [{ name: 'Intensity', min: -39, max: -14, value: -20 }] });
  const breakClip = sim.addSessionClip(drums, 0, {
    name: 'Break', is_audio_clip: 1, file_path: breakWav, warping: 1, looping: 1,
    loop_start: 4, loop_end: 8, start_marker: 0, end_marker: 13.333333,
    warp_markers: [
      { beat_time: 0, sample_time: 0 },
      { beat_time: 13.333333, sample_time: 8.0 },
      { beat_time: 13.364583, sample_time: 8.01875 },
    ],
  });
  const lead = sim.addSessionClip(keys, 0, {
    name: 'Lead', is_audio_clip: 0, looping: 1, loop_start: 0, loop_end: 8, start_marker: 0, end_marker: 8,
    notes: [
      { pitch: 60, start_time: 0, duration: 1, velocity: 100, mute: 0 },
      { pitch: 64, start_time: 1, duration: 1, velocity: 90, mute: 0 },
      { pitch: 67, start_time: 2, duration: 2, velocity: 80, mute: 0 },
      { pitch: 72, start_time: 4, duration: 6, velocity: 70, mute: 0 },
      { pitch: 48, start_time: 5, duration: 1, velocity: 70, mute: 1 },
    ],
  });
  const voxClip = sim.addArrangementClip(vox, {
    name: 'Vox take', is_audio_clip: 1, file_path: voxWav, warping: 0, looping: 0,
    loop_start: 1.0, loop_end: 7.0, start_marker: 1.0, end_marker: 7.0, start_time: 32,
  });
  sim.addCuePoint('Verse 1', 16);
  sim.addCuePoint('Intro', 0);
  sim.addCuePoint('Chorus', 32);
  sim.addCuePoint('Verse 2', 48);
  return { sim, dir, tracks: { drums, keys, vox }, clips: { breakClip, lead, voxClip }, files: { breakWav, voxWav } };
}

module.exports = { writeWav, writeClickWav, tempDir, buildSet };
