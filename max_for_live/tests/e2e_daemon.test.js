'use strict';
/**
 * End to end: the device JavaScript (in the Max harness, against the LOM simulator) talks to the real
 * daemon over real UDP on 127.0.0.1, as Max's udpsend/udpreceive would. The connection light comes on
 * within 2 s of both running, whichever starts first; Generate -> /ditto/accepted -> /ditto/progress ->
 * /ditto/done, and the simulated Live receives a create_audio_clip call with the path of a WAV that exists.
 *
 * The daemon runs as a subprocess started as the README's first command starts it, with no --reply-port:
 * python3 -m ditto_bridge.cli serve --port P --model builtin-tiny --data-dir DIR --audio-dir DIR. It answers
 * the device at the port the device's /ditto/ping announces. The tests are skipped only when
 * `ditto_bridge.commands.serve` cannot be imported.
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const dgram = require('dgram');
const fs = require('fs');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { buildSet, tempDir, writeClickWav } = require('./fixtures');
const { loadDevice } = require('./max_env');
const { MaxUdpBridge, encodeMessage, decodePacket } = require('./osc');
const { wavDurationSeconds } = require('./lom_sim');

const REPO = path.join(__dirname, '..', '..');
const PYTHON = process.env.PYTHON || 'python3';

function serveImportError() {
  const probe = spawnSync(PYTHON, ['-c', 'import ditto_bridge.commands.serve'], { cwd: REPO, encoding: 'utf8' });
  if (probe.error) return `${PYTHON} cannot run: ${probe.error.message}`;
  return probe.status === 0 ? null : probe.stderr.trim().split('\n').pop();
}

async function freeUdpPort() {
  const sock = dgram.createSocket('udp4');
  await new Promise((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const { port } = sock.address();
  await new Promise((resolve) => sock.close(resolve));
  return port;
}

/** `ditto-bridge serve` as the README starts it (no --reply-port), on port `port`, with the tiny model. */
function startDaemon(port, dataDir, audioDir) {
  const args = ['-m', 'ditto_bridge.cli', 'serve', '--port', String(port),
    '--model', 'builtin-tiny', '--data-dir', dataDir, '--audio-dir', audioDir];
  const env = Object.assign({}, process.env, { OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', PYTHONUNBUFFERED: '1' });
  const child = spawn(PYTHON, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.output = '';
  child.stdout.on('data', (d) => { child.output += d; });
  child.stderr.on('data', (d) => { child.output += d; });
  child.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return child;
}

async function stopDaemon(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
  await child.exited;
  clearTimeout(timer);
}

/**
 * Resolves with the time (Date.now()) at which the daemon first answered a /ditto/ping sent from a socket of
 * the test's own (a ping without a port: answered where it came from), i.e. once it is running.
 */
async function daemonAnswering(port, daemon, timeoutMs) {
  const probe = dgram.createSocket('udp4');
  await new Promise((resolve) => probe.bind(0, '127.0.0.1', resolve));
  const ping = encodeMessage('/ditto/ping', []);
  const deadline = Date.now() + timeoutMs;
  try {
    return await new Promise((resolve, reject) => {
      let sentAt = 0;
      probe.on('message', (data) => {
        if (decodePacket(data)[0].address === '/ditto/pong') { clearInterval(timer); resolve(sentAt); }
      });
      const timer = setInterval(() => {
        if (daemon.exitCode !== null) { clearInterval(timer); reject(new Error(`the daemon exited early:\n${daemon.output}`)); return; }
        if (Date.now() > deadline) { clearInterval(timer); reject(new Error(`no /ditto/pong within ${timeoutMs} ms:\n${daemon.output}`)); return; }
        sentAt = Date.now();
        probe.send(ping, port, '127.0.0.1');
      }, 50);
    });
  } finally {
    probe.close();
  }
}

/** Waits (real time, Max's clock running) until the connection light is on; returns when (Date.now()). */
async function lightOn(env, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (env.uiState.connected !== 1) {
    if (Date.now() > deadline) assert.fail(`the connection light did not come on within ${timeoutMs} ms; status: ${env.uiState.status}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return Date.now();
}

/**
 * The device with Max's udpsend/udpreceive played over real UDP, its Tasks on real time. The device announces
 * DEFAULT_REPLY_PORT (9101, its udpreceive in the patcher: amxd.test.js) in every ping; here the stand-in for
 * udpreceive listens on a free port instead, so that runs on one machine never collide, and the script's
 * DEFAULT_REPLY_PORT is set to that port.
 */
async function startDevice(set, daemonPort) {
  const env = loadDevice(set.sim);
  const replyPort = await freeUdpPort();
  env.context.DEFAULT_REPLY_PORT = replyPort;
  const bridge = new MaxUdpBridge(env, { daemonPort, replyPort });
  let last = Date.now();
  const ticker = setInterval(() => { const now = Date.now(); env.clock.advance(now - last); last = now; }, 10);
  await bridge.start();
  env.deviceLoaded();
  env.send('samplerate', 44100);
  const stop = () => { clearInterval(ticker); bridge.close(); };
  return { env, bridge, replyPort, stop };
}

const skipReason = serveImportError();
const skip = skipReason ? `ditto-bridge serve cannot be imported yet: ${skipReason}` : false;

test('device first, then a plain `ditto-bridge serve`: the hint names the README\'s command and the light comes on within 2 s',
  { skip, timeout: 300000 }, async () => {
    const dataDir = tempDir('ditto-e2e-');
    const port = await freeUdpPort();
    const set = buildSet();
    const device = await startDevice(set, port);
    let daemon = null;
    try {
      const { env, replyPort } = device;
      // nothing answers yet: after two unanswered pings the device says how to start the daemon
      const hintDeadline = Date.now() + 10000;
      while (!/No answer from the daemon/.test(String(env.uiState.status)) && Date.now() < hintDeadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const hint = String(env.uiState.status).match(/start it with '([^']+)'/);
      assert.ok(hint, `the device shows how to start the daemon; status: ${env.uiState.status}`);
      const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
      const firstBlock = readme.match(/```bash\n([\s\S]*?)```/)[1];
      const first = firstBlock.match(/(ditto-bridge serve[^#&\n]*)/);
      assert.ok(first, 'the README\'s first commands start the daemon');
      assert.equal(first[1].trim(), hint[1], 'the README\'s first command and the device\'s hint agree');
      assert.equal(env.uiState.connected, 0);
      const pings = env.osc.filter((m) => m.address === '/ditto/ping');
      assert.ok(pings.length >= 2);
      for (const ping of pings) assert.deepEqual(ping.args, [replyPort], 'every ping announces the reply port');

      daemon = startDaemon(port, dataDir, set.dir);
      const running = await daemonAnswering(port, daemon, 240000);
      const on = await lightOn(env, 10000);
      // at worst one ping interval (2 s) after the daemon answers, plus the round trip
      assert.ok(on - running <= 2000 + 250, `the light came on ${on - running} ms after the daemon answered`);
      console.log(`connection light on ${on - running} ms after the daemon first answered`);
      assert.match(String(env.uiState.status), /^Connected: ditto-bridge /);
    } finally {
      device.stop();
      if (daemon) await stopDaemon(daemon);
    }
  });

test('a plain `ditto-bridge serve` first, then the device: light on within 2 s; Generate -> accepted -> progress -> done -> the simulated Live imports the WAV',
  { skip, timeout: 600000 },
  async () => {
    const dataDir = tempDir('ditto-e2e-');
    const port = await freeUdpPort();
    const set = buildSet();
    const daemon = startDaemon(port, dataDir, set.dir);
    let device = null;
    try {
      const running = await daemonAnswering(port, daemon, 240000);
      device = await startDevice(set, port);
      const { env, bridge } = device;
      // the device pings as it loads: the daemon answers at the port the ping announces, and the light comes on
      const on = await lightOn(env, 2000);
      console.log(`connection light on ${on - running} ms after the daemon first answered (the device loaded after)`);
      const pong = bridge.received.find((m) => m.address === '/ditto/pong');
      assert.equal(pong.types, 'sss');

      // a small, quick job: one bar, draft quality, two optimization steps
      env.send('tags', 'drums');
      env.send('bars', 1);
      env.send('quality', 0);
      env.send('steps', 2);
      env.send('seed', 7);
      env.send('task', 0);
      env.send('generate', 1);
      assert.equal(env.uiState.error, ' ', `the device refused to send: ${env.uiState.error}`);

      const accepted = await bridge.waitFor((m) => m.address === '/ditto/accepted' || m.address === '/ditto/error', 60000, '/ditto/accepted');
      assert.equal(accepted.address, '/ditto/accepted', `daemon error: ${accepted.args.join(' ')}\n${daemon.output}`);
      assert.equal(accepted.types, 's');
      const id = accepted.args[0];
      const sentJob = JSON.parse(env.osc.filter((m) => m.address === '/ditto/generate').at(-1).args[0]);
      assert.equal(id, sentJob.id, 'the daemon accepts the job under the id the device gave it');

      const progress = await bridge.waitFor((m) => m.address === '/ditto/progress' && m.args[0] === id, 300000, '/ditto/progress');
      assert.equal(progress.types, 'sfif');
      const done = await bridge.waitFor((m) => (m.address === '/ditto/done' || m.address === '/ditto/error') && m.args[0] === id, 400000, '/ditto/done');
      assert.equal(done.address, '/ditto/done', `job failed: ${done.args.join(' ')}\n${daemon.output}`);
      assert.equal(done.types, 'sss');
      assert.equal(done.args[2], '', 'a job without controls has no summary to show');
      const wav = done.args[1];
      assert.ok(fs.existsSync(wav), `the WAV ${wav} exists`);

      // the device imports it (deferred) into the next empty slot of its own track
      const importDeadline = Date.now() + 5000;
      while (!set.sim.writes.some((w) => w.fn === 'ClipSlot.create_audio_clip') && Date.now() < importDeadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const created = set.sim.writes.filter((w) => w.fn === 'ClipSlot.create_audio_clip');
      assert.deepEqual(created, [{ fn: 'ClipSlot.create_audio_clip', path: 'live_set tracks 0 clip_slots 1', file_path: wav }]);
      assert.match(env.uiState.status, /^Imported .*\.wav into Drums, slot 2$/);
      // one bar of 4/4 at 100 BPM is 2.4 s
      assert.ok(Math.abs(wavDurationSeconds(wav) - 2.4) < 0.05, `WAV lasts ${wavDurationSeconds(wav)} s`);

      // Continue the selected warped clip: its file, warp markers and loop brace travel in Live units
      set.sim.selectClip(set.clips.breakClip);
      env.send('bars', 2);
      env.send('task', 2);
      env.send('generate', 1);
      assert.equal(env.uiState.error, ' ', `the device refused to send: ${env.uiState.error}`);
      const accepted2 = await bridge.waitFor((m) => (m.address === '/ditto/accepted' && m.args[0] !== id) || m.address === '/ditto/error', 60000, 'a second /ditto/accepted');
      assert.equal(accepted2.address, '/ditto/accepted', `daemon error: ${accepted2.args.join(' ')}`);
      const id2 = accepted2.args[0];
      const done2 = await bridge.waitFor((m) => (m.address === '/ditto/done' || m.address === '/ditto/error') && m.args[0] === id2, 400000, 'the continuation');
      assert.equal(done2.address, '/ditto/done', `job failed: ${done2.args.join(' ')}\n${daemon.output}`);
      const until = Date.now() + 5000;
      while (set.sim.writes.filter((w) => w.fn === 'ClipSlot.create_audio_clip').length < 2 && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const created2 = set.sim.writes.filter((w) => w.fn === 'ClipSlot.create_audio_clip');
      assert.deepEqual(created2[1], { fn: 'ClipSlot.create_audio_clip', path: 'live_set tracks 0 clip_slots 2', file_path: done2.args[1] });
      assert.ok(Math.abs(wavDurationSeconds(done2.args[1]) - 4.8) < 0.05, `continuation lasts ${wavDurationSeconds(done2.args[1])} s`);

      // Generate again as at first (same task, seed and track, a curve drawn now): the same lineage, so the
      // daemon starts it from the first take's optimized noise and says so in the sidecar and the status line
      env.send('bars', 1);
      env.send('task', 0);
      env.send('curve', 1);
      env.send('breakpoints', 0, -40, 4, -12);
      env.send('generate', 1);
      assert.equal(env.uiState.error, ' ', `the device refused to send: ${env.uiState.error}`);
      const sent3 = JSON.parse(env.osc.filter((m) => m.address === '/ditto/generate').at(-1).args[0]);
      assert.equal(sent3.lineage, sentJob.lineage);
      const done3 = await bridge.waitFor((m) => (m.address === '/ditto/done' || m.address === '/ditto/error') && m.args[0] === sent3.id, 400000, 'the tweak');
      assert.equal(done3.address, '/ditto/done', `job failed: ${done3.args.join(' ')}\n${daemon.output}`);
      const sidecar3 = JSON.parse(fs.readFileSync(done3.args[1].replace(/\.wav$/, '.json'), 'utf8'));
      assert.equal(sidecar3.ditto_bridge.lineage, sentJob.lineage);
      assert.equal(sidecar3.ditto_bridge.warm_start_from, id);
      const until3 = Date.now() + 5000;
      while (set.sim.writes.filter((w) => w.fn === 'ClipSlot.create_audio_clip').length < 3 && Date.now() < until3) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // the take's summary (/ditto/done's third argument) follows on the status line: the drawn curve is an
      // intensity control, met or missed by how much
      assert.match(done3.args[2], /^intensity (within tolerance|missed by) /);
      assert.match(env.uiState.status, new RegExp(`^Imported .*\\.wav into Drums, slot 4 \\(continued from job ${id}\\) · intensity `));
      assert.ok(env.uiState.status.endsWith(` · ${done3.args[2]}`), env.uiState.status);
    } finally {
      if (device) device.stop();
      await stopDaemon(daemon);
    }
  });

/** Presses Generate and waits for the job's /ditto/done (or its error): the reply's arguments, and the job sent. */
async function generateAndWait(env, bridge, daemon, what) {
  env.send('generate', 1);
  assert.equal(env.uiState.error, ' ', `${what}: the device refused to send: ${env.uiState.error}`);
  const job = JSON.parse(env.osc.filter((m) => m.address === '/ditto/generate').at(-1).args[0]);
  const reply = await bridge.waitFor((m) => ['/ditto/done', '/ditto/error'].includes(m.address) && m.args[0] === job.id,
    400000, `${what}: /ditto/done`);
  assert.equal(reply.address, '/ditto/done', `${what} failed: ${reply.args.join(' ')}\n${daemon.output}`);
  return { job, wav: reply.args[1], summary: reply.args[2] };
}

test('Rhythm against a plain `ditto-bridge serve`: the steps, a MIDI and an audio drum clip each become a take reporting its rhythm',
  { skip, timeout: 900000 },
  async () => {
    const dataDir = tempDir('ditto-e2e-');
    const port = await freeUdpPort();
    const set = buildSet();
    // an audio drum loop (clicks on the eighths at 100 BPM, 8 beats) and a MIDI drum clip, both in Session slots
    const drumsWav = writeClickWav(path.join(set.dir, 'drum loop.wav'), 4.8, 0.3);
    const drumLoop = set.sim.addSessionClip(set.tracks.drums, 2, {
      name: 'Drum loop', is_audio_clip: 1, file_path: drumsWav, warping: 1, looping: 1,
      loop_start: 0, loop_end: 4, start_marker: 0, end_marker: 8,
      warp_markers: [
        { beat_time: 0, sample_time: 0 }, { beat_time: 8, sample_time: 4.8 }, { beat_time: 8.03125, sample_time: 4.81875 },
      ],
    });
    const beat = set.sim.addSessionClip(set.tracks.keys, 1, {
      name: 'Beat', is_audio_clip: 0, looping: 1, loop_start: 0, loop_end: 2, start_marker: 0, end_marker: 2,
      notes: [0, 0.5, 1, 1.5].map((t) => ({
        pitch: t % 1 ? 42 : 36, start_time: t, duration: 0.25, velocity: t % 1 ? 70 : 110, mute: 0,
      })),
    });
    const daemon = startDaemon(port, dataDir, set.dir);
    let device = null;
    try {
      await daemonAnswering(port, daemon, 240000);
      device = await startDevice(set, port);
      const { env, bridge } = device;
      await lightOn(env, 2000);
      env.send('tags', 'bass');
      env.send('bars', 1);
      env.send('quality', 0);
      env.send('steps', 2);
      env.send('seed', 7);
      env.send('task', 6);

      env.send('pattern', 1, 0, 0.5, 0, 1, 0, 0.5, 0, 1, 0, 0.5, 0, 1, 0, 0.5, 0);
      env.send('swing', 20);
      const steps = await generateAndWait(env, bridge, daemon, 'the steps');
      assert.deepEqual(Object.keys(steps.job.rhythm), ['steps', 'steps_per_beat', 'swing']);

      set.sim.selectClip(beat);
      const midi = await generateAndWait(env, bridge, daemon, 'the MIDI drum clip');
      assert.equal(midi.job.rhythm.notes.length, 4);

      set.sim.selectClip(drumLoop);
      const audio = await generateAndWait(env, bridge, daemon, 'the audio drum clip');
      assert.equal(audio.job.rhythm.clip.file_path, drumsWav);

      for (const take of [steps, midi, audio]) {
        assert.ok(fs.existsSync(take.wav), `the WAV ${take.wav} exists`);
        // one bar of 4/4 at 100 BPM is 2.4 s
        assert.ok(Math.abs(wavDurationSeconds(take.wav) - 2.4) < 0.05, `WAV lasts ${wavDurationSeconds(take.wav)} s`);
        assert.match(take.summary, /^rhythm (within tolerance|missed by) /, 'the summary says how well it followed the rhythm');
      }
    } finally {
      if (device) device.stop();
      await stopDaemon(daemon);
    }
  });
