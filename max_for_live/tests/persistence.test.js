'use strict';
/**
 * State saved with the Live set. The js object is a Stored Only blob parameter: when the set is saved Live
 * asks getvalueof() and keeps the value as a list of atoms; when the set is opened it hands them back to
 * setvalueof() (Max's pattr protocol for js: "setvalueof() and getvalueof()"; blob parameters hold "any
 * type of data you can store with a pattr object: single values, lists, or strings"). The device's other
 * controls (Task, Bars, Seed, ...) are parameters of their own: Live restores them by making each control
 * output its value again, which reaches the script as the control's message.
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const { buildSet } = require('./fixtures');
const { loadDevice } = require('./max_env');

/**
 * What the producer does in the first session: every control set through the UI (messages recorded as the
 * Live parameters' values), a prompt with commas and a semicolon, a drawn curve, a recording, an inbox.
 */
function firstSession() {
  const set = buildSet();
  const env = loadDevice(set.sim);
  env.deviceLoaded();
  const params = [];
  const control = (selector, value) => { params.push([selector, value]); env.send(selector, value); };
  control('task', 2);
  control('quality', 0);
  control('bars', 8);
  control('steps', 30);
  control('seed', 4242);
  control('variations', 2);
  control('idea', 3);
  control('range', 0);
  control('place', 1);
  control('curve', 1);
  env.send('tags', 'dusty', 'funk,', 'drums;', 'no', 'vocals');
  env.send('breakpoints', 0, -30, 8, -15, 24, -22, 32, -20);
  env.send('inbox', set.dir);
  env.send('record', 1);
  set.sim.song.props.is_playing = 1;
  for (let beat = 0; beat <= 8; beat += 0.05) {
    set.sim.song.props.current_song_time = beat;
    env.send('intensity', beat < 4 ? -30 : -18);
    env.clock.advance(50);
  }
  set.sim.song.props.is_playing = 0;
  env.send('record', 0);
  return { set, env, params };
}

/** Generate on the selected clip: the job without its id (a new one each time). */
function job(env, set) {
  set.sim.selectClip(set.clips.breakClip);
  const before = env.osc.length;
  env.send('generate', 1);
  const sent = env.osc.slice(before).filter((m) => m.address === '/ditto/generate');
  assert.equal(sent.length, 1, `nothing sent: ${env.uiState.error}`);
  const j = JSON.parse(sent[0].args[0]);
  delete j.id;
  return j;
}

test('saving the set and opening it again restores the prompt, the curves, the inbox and every setting', () => {
  const first = firstSession();
  assert.ok(first.env.notified > 0, 'the device told Live its state changed, so saving the set stores it');
  const expected = job(first.env, first.set);
  assert.equal(expected.tags, 'dusty funk, drums; no vocals');
  assert.deepEqual(expected.intensity.breakpoints, [[0, -30], [8, -15], [24, -22], [32, -20]]);
  const saved = first.env.saveState();
  assert.equal(saved.length, 1, 'one symbol');
  // The set is opened again: a new copy of the device, its parameters restored, then its blob, then ready.
  const again = buildSet({ dir: first.set.dir }); // the same set, opened again
  const env = loadDevice(again.sim);
  for (const [selector, value] of first.params) env.send(selector, value);
  env.restoreState(saved);
  env.deviceLoaded();
  assert.equal(env.notified, 0, 'restoring is not a change to save');
  assert.deepEqual(job(env, again), expected);
  // the tags box and the editor show what was restored
  assert.equal(env.uiState.settags, 'dusty funk, drums; no vocals');
  assert.deepEqual(env.uiLog.find((m) => m[0] === 'setcurve'), ['setcurve', 0, -30, 8, -15, 24, -22, 32, -20]);
  // the recording came back too: Curve = Automation without a clip uses it
  env.send('curve', 2);
  first.env.send('curve', 2);
  first.set.sim.selectClip(null);
  again.sim.selectClip(null);
  env.send('generate', 1);
  first.env.send('generate', 1);
  const rec = (e) => JSON.parse(e.osc.filter((m) => m.address === '/ditto/generate').at(-1).args[0]).intensity.breakpoints;
  assert.deepEqual(rec(env), rec(first.env));
  assert.equal(env.context.state.inbox, first.set.dir);
});

test('the state also comes back when Live hands it over after live.thisdevice has banged', () => {
  const first = firstSession();
  const expected = job(first.env, first.set);
  const saved = first.env.saveState();
  const again = buildSet({ dir: first.set.dir }); // the same set, opened again
  const env = loadDevice(again.sim);
  env.deviceLoaded();
  for (const [selector, value] of first.params) env.send(selector, value);
  env.restoreState(saved);
  assert.deepEqual(job(env, again), expected);
});

test('the saved value is plain JSON in one symbol; nothing else is notified when nothing changed', () => {
  const { env } = firstSession();
  const [text] = env.saveState();
  const state = JSON.parse(text);
  assert.deepEqual(Object.keys(state).sort(), ['clip_recorded', 'drawn', 'inbox', 'pattern', 'recorded', 'tags', 'v']);
  assert.equal(state.clip_recorded, null, 'nothing was recorded along a clip');
  const count = env.notified;
  env.send('tags', 'dusty', 'funk,', 'drums;', 'no', 'vocals'); // the same text again
  env.send('breakpoints', 0, -30, 8, -15, 24, -22, 32, -20);
  assert.equal(env.notified, count);
  env.send('tags', 'brighter');
  assert.equal(env.notified, count + 1);
});

test('an unreadable saved value is ignored with a note in Max\'s console, and the device still works', () => {
  const set = buildSet();
  const env = loadDevice(set.sim);
  env.restoreState(['{not json']);
  env.restoreState([0]);
  env.deviceLoaded();
  assert.deepEqual(env.console.filter((l) => /saved state could not be read/.test(l)).length, 1);
  env.send('tags', 'ok');
  assert.equal(job(env, set).tags, 'ok');
});

test('a saved state split into atoms at its spaces is joined back', () => {
  const first = firstSession();
  const expected = job(first.env, first.set);
  const [text] = first.env.saveState();
  const again = buildSet({ dir: first.set.dir }); // the same set, opened again
  const env = loadDevice(again.sim);
  for (const [selector, value] of first.params) env.send(selector, value);
  env.restoreState(text.split(' '));
  env.deviceLoaded();
  assert.deepEqual(job(env, again), expected);
});

test('what Rec recorded along a clip comes back with the set and is matched to the clip by its place', () => {
  const set = buildSet(); // a Live that does not let devices read clip envelopes
  const env = loadDevice(set.sim);
  env.deviceLoaded();
  env.send('curve', 2);
  set.sim.selectClip(set.clips.breakClip);
  env.send('record', 1);
  set.sim.song.props.is_playing = 1;
  for (let pos = 4; pos < 8 + 1e-9; pos += 0.05) {
    set.sim.playClip(set.clips.breakClip, pos);
    env.send('intensity', pos < 6 ? -30 : -18);
    env.clock.advance(50);
  }
  set.sim.song.props.is_playing = 0;
  env.send('record', 0);
  const expected = job(env, set);
  assert.match(env.uiState.status, /recorded while clip 'Break' played/);
  const again = buildSet({ dir: set.dir });
  const env2 = loadDevice(again.sim);
  env2.send('curve', 2);
  env2.restoreState(env.saveState());
  env2.deviceLoaded();
  assert.deepEqual(job(env2, again), expected);
  assert.match(env2.uiState.status, /recorded while clip 'Break' played/);
});

/**
 * The curve editor as Max's `function` object behaves: `setdomain` rescales the points it holds to the new x
 * range, a `setcurve` (cleared, then its pairs listed in, see src/DittoBridge.maxpat) replaces them.
 */
function editorPoints(uiLog) {
  const patcher = JSON.parse(require('node:fs').readFileSync(`${__dirname}/../src/DittoBridge.maxpat`, 'utf8'));
  const editor = patcher.patcher.boxes.map((b) => b.box).find((b) => b.maxclass === 'function');
  let domain = editor.domain; // what the editor holds when the set opens, before the device says anything
  let points = [];
  for (const [selector, ...args] of uiLog) {
    if (selector === 'domain') {
      points = points.map(([x, y]) => [(x * args[0]) / domain, y]);
      domain = args[0];
    } else if (selector === 'setcurve') {
      points = [];
      for (let i = 0; i + 1 < args.length; i += 2) points.push([args[i], args[i + 1]]);
    }
  }
  return points;
}

for (const order of ['first of all', 'before the device is ready', 'after the device is ready']) {
  test(`the editor shows the restored curve at its beats when the state is restored ${order}`, () => {
    const first = firstSession();
    const saved = first.env.saveState();
    const again = buildSet({ dir: first.set.dir });
    const env = loadDevice(again.sim);
    if (order === 'first of all') env.restoreState(saved);
    if (order === 'after the device is ready') env.deviceLoaded();
    for (const [selector, value] of first.params) env.send(selector, value);
    if (order !== 'first of all') env.restoreState(saved);
    if (order !== 'after the device is ready') env.deviceLoaded();
    assert.deepEqual(editorPoints(env.uiLog), [[0, -30], [8, -15], [24, -22], [32, -20]]);
  });
}
