'use strict';
/**
 * The drawn curve after a change of length or time signature, and the prompt box.
 *
 * The breakpoint editor is Max's `function` object; the patcher sends it `setdomain <beats>` for the script's
 * `domain`, `listdump` for `dumpcurve`, and the points of `setcurve` (after `clear`); its listdump output
 * (x y pairs) comes back as `breakpoints`. `FunctionEditor` below plays that part of the patcher: `setdomain`
 * changes the x range and scales the points' x values with it, as the function reference describes, and
 * `listdump` sends the points.
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const { buildSet } = require('./fixtures');
const { loadDevice } = require('./max_env');

class FunctionEditor {
  constructor(env, wired) {
    this.env = env;
    this.domain = 1000; // the function object's default domain (ms) until the script sets it
    this.points = [];
    if (wired !== false) env.onUi = (selector, args) => this.message(selector, args);
  }

  message(selector, args) {
    if (selector === 'domain') this.setdomain(Number(args[0]));
    if (selector === 'dumpcurve') this.listdump();
    if (selector === 'setcurve') {
      this.points = [];
      for (let i = 0; i + 1 < args.length; i += 2) this.points.push([Number(args[i]), Number(args[i + 1])]);
    }
  }

  setdomain(d) {
    const scale = d / this.domain;
    this.points = this.points.map(([x, y]) => [x * scale, y]);
    this.domain = d;
  }

  listdump() {
    if (this.points.length) this.env.send('breakpoints', ...this.points.flat());
  }

  /** The producer draws: the editor changes, and (as wired) its "changed" outlet asks for a listdump. */
  draw(points) {
    this.points = points.map((p) => p.slice());
    this.listdump();
  }
}

function device(wired) {
  const set = buildSet();
  const env = loadDevice(set.sim);
  const editor = new FunctionEditor(env, wired);
  env.deviceLoaded();
  env.send('curve', 1); // Drawn
  return { set, env, editor };
}

function sentCurve(env) {
  env.send('task', 0);
  env.send('generate', 1);
  const sent = env.osc.filter((m) => m.address === '/ditto/generate').at(-1);
  return JSON.parse(sent.args[0]).intensity.breakpoints;
}

test('changing Bars sends the curve laid out over the new length, without touching the editor', () => {
  const { env, editor } = device();
  assert.equal(editor.domain, 16);
  editor.draw([[0, -30], [8, -15], [16, -20]]);
  env.send('bars', 8);
  assert.equal(editor.domain, 32);
  assert.deepEqual(sentCurve(env), [[0, -30], [16, -15], [32, -20]]);
});

test('the device does not depend on the editor answering: it moves its copy of the curve the same way', () => {
  const { env, editor } = device(false);
  env.send('breakpoints', 0, -30, 8, -15, 16, -20);
  env.send('bars', 2);
  assert.deepEqual(sentCurve(env), [[0, -30], [4, -15], [8, -20]]);
  assert.equal(editor.points.length, 0);
});

test('a time signature change in Live rescales the editor and the curve at once (observer on the Song)', () => {
  const { set, env, editor } = device();
  editor.draw([[0, -30], [8, -15], [16, -20]]);
  set.sim.song.setProp('signature_numerator', 3); // 4 bars of 3/4 = 12 beats
  assert.equal(editor.domain, 12);
  assert.equal(env.uiState.domain, 12);
  assert.deepEqual(sentCurve(env), [[0, -30], [6, -15], [12, -20]]);
  set.sim.song.setProp('signature_denominator', 8); // 3/8: 6 beats
  assert.equal(editor.domain, 6);
  assert.deepEqual(sentCurve(env), [[0, -30], [3, -15], [6, -20]]);
  assert.equal(set.sim.writes.length, 0);
  assert.ok(!set.sim.console.some((m) => /notifications/.test(m)));
});

test('an edit after a length change is what is sent', () => {
  const { env, editor } = device();
  editor.draw([[0, -30], [16, -20]]);
  env.send('bars', 1);
  editor.draw([[0, -39], [2, -14], [4, -39]]);
  assert.deepEqual(sentCurve(env), [[0, -39], [2, -14], [4, -39]]);
});

test('the prompt keeps its commas and semicolons, however Max hands the words over', () => {
  const { env } = device();
  const tags = () => { env.send('generate', 1); return JSON.parse(env.osc.filter((m) => m.address === '/ditto/generate').at(-1).args[0]).tags; };
  env.send('curve', 0);
  env.send('tags', 'dusty funk, drums; no vocals'); // one symbol
  assert.equal(tags(), 'dusty funk, drums; no vocals');
  env.send('tags', 'dusty', 'funk,', 'drums;', 'no', 'vocals'); // words, punctuation attached
  assert.equal(tags(), 'dusty funk, drums; no vocals');
  env.send('tags', 'dusty', 'funk', ',', 'drums', ';', 'no', 'vocals'); // punctuation as atoms of its own
  assert.equal(tags(), 'dusty funk, drums; no vocals');
  env.send('tags', 'lofi', 90, 'bpm');
  assert.equal(tags(), 'lofi 90 bpm');
});

test('clearing the prompt box clears the prompt: an empty message, or the bang Max sends for an empty text', () => {
  const { env } = device();
  env.send('curve', 0);
  const tags = () => { env.send('generate', 1); return JSON.parse(env.osc.filter((m) => m.address === '/ditto/generate').at(-1).args[0]).tags; };
  env.send('tags', 'something');
  env.send('tags', 'bang');
  assert.equal(tags(), '');
  env.send('tags', 'something');
  env.send('tags');
  assert.equal(tags(), '');
});
