'use strict';
/** What the device tests share: a device loaded into a simulated set, a result WAV, a job accepted. */

const path = require('path');
const { buildSet, writeWav } = require('./fixtures');
const { loadDevice } = require('./max_env');

/** A simulated set (`opts` as `buildSet` takes them) with the device loaded and `live.thisdevice` banged. */
function device(opts) {
  const set = buildSet(opts);
  const env = loadDevice(set.sim);
  env.deviceLoaded();
  return { set, env };
}

/** A result WAV as the daemon writes it: `bars` of 4/4 at 100 BPM. */
function resultWav(set, name, bars) {
  return writeWav(path.join(set.dir, name), (bars * 4 * 60) / 100, 48000, 2);
}

/** Presses Generate; the daemon accepts the job under the id the device gave it. Returns that id. */
function runJob(env, taskIndex) {
  env.send('task', taskIndex);
  env.send('generate', 1);
  const { id } = JSON.parse(env.osc.filter((m) => m.address === '/ditto/generate').at(-1).args[0]);
  env.send('/ditto/accepted', id);
  return id;
}

module.exports = { device, resultWav, runJob };
