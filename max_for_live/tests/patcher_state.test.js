'use strict';
/**
 * The patcher carries the device's state both ways, over the cords of src/DittoBridge.maxpat: what the prompt
 * box sends reaches the script whole, what the breakpoint editor holds reaches the script, and what the script
 * restores when a set opens (its `settags`, `setcurve` and `domain` UI messages) reaches the prompt box and
 * the editor (and the Rhythm step editor's pattern, both ways). The js object is the Live parameter that keeps
 * that state (Stored Only, type blob).
 *
 * A small interpreter plays the Max objects on those paths, as Max's reference pages describe them:
 *   s / r NAME    a message into `s NAME` comes out of every `r NAME`
 *   route A B…    a message whose first item is A leaves by A's outlet without that item (nothing left: bang);
 *                 anything else leaves by the rightmost outlet unchanged
 *   prepend X     puts X in front of the message
 *   t l b         outputs right to left: `b` a bang, `l` the input as a list
 *   message box   outputs its text whatever it receives (no $ arguments here)
 *   zl iter N     outputs its input list N items at a time; lists longer than `zlmaxsize` (256 unless set)
 *                 are cut to that length first
 *   textedit      `set …` sets the text without output; Return (keymode 1) outputs `text` and the text, as
 *                 one symbol with outputmode 1, else as words
 *   function      `clear` removes every point; a list of two numbers adds the point x y; `setdomain d`
 *                 rescales the points' x to the new domain; `listdump` outputs the points as one list of
 *                 x y pairs from the third outlet; a mouse edit bangs the fourth outlet
 *   multislider   `set v1 v2 …` shows the values without output; a mouse edit outputs every slider's value as
 *                 one list from the first outlet, each clipped to `setminmax`
 *   js            every message goes into the script (max_env.js), whose outlet 1 comes back here
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { buildSet } = require('./fixtures');
const { loadDevice } = require('./max_env');

const SOURCE = path.join(__dirname, '..', 'src', 'DittoBridge.maxpat');
const P = JSON.parse(fs.readFileSync(SOURCE, 'utf8')).patcher;
const ZL_DEFAULT_MAXSIZE = 256;

const bang = () => ({ sel: 'bang', args: [] });
/** A Max message from atoms: numbers first make a list, a symbol first is the selector. */
function message(atoms) {
  if (!atoms.length) return bang();
  if (typeof atoms[0] === 'number') return { sel: 'list', args: atoms.slice() };
  return { sel: String(atoms[0]), args: atoms.slice(1) };
}
/** The atoms of a message, as prepend and trigger see them. */
function atomsOf(msg) {
  if (msg.sel === 'list' || msg.sel === 'symbol') return msg.args.slice();
  return [msg.sel, ...msg.args];
}

class PatcherSim {
  constructor(patcher, env) {
    this.env = env;
    this.boxes = new Map(patcher.boxes.map((b) => [b.box.id, b.box]));
    this.cords = new Map();
    for (const { patchline } of patcher.lines) {
      const key = patchline.source.join(':');
      if (!this.cords.has(key)) this.cords.set(key, []);
      this.cords.get(key).push(patchline.destination);
    }
    this.state = new Map();
    for (const b of this.boxes.values()) {
      if (b.maxclass === 'textedit') this.state.set(b.id, { text: b.text || '' });
      if (b.maxclass === 'function') {
        const pts = b.addpoints || [];
        const points = [];
        for (let i = 0; i + 1 < pts.length; i += 3) points.push([pts[i], pts[i + 1]]);
        this.state.set(b.id, { domain: b.domain || 1, points });
      }
      if (b.maxclass === 'multislider') this.state.set(b.id, { values: new Array(b.size).fill(0) });
    }
    this.js = this.byText('js ').id;
    env.onUi = (selector, rest) => this.emit(this.js, 1, message([selector, ...rest]));
  }

  byText(prefix) { return [...this.boxes.values()].find((b) => b.maxclass === 'newobj' && b.text.startsWith(prefix)); }
  byVar(name) { return [...this.boxes.values()].find((b) => b.varname === name); }

  emit(id, outlet, msg) {
    for (const [dst, inlet] of this.cords.get(`${id}:${outlet}`) || []) this.deliver(dst, inlet, msg);
  }

  deliver(id, inlet, msg) {
    const b = this.boxes.get(id);
    if (b.maxclass === 'textedit') return this.textedit(b, msg);
    if (b.maxclass === 'function') return this.fn(b, msg);
    if (b.maxclass === 'multislider') return this.multislider(b, msg);
    if (b.maxclass === 'message') return this.emit(id, 0, message(b.text.split(/\s+/)));
    if (b.maxclass !== 'newobj' || inlet !== 0) return undefined;
    const [name, ...args] = b.text.split(/\s+/);
    if (id === this.js) return this.env.send(msg.sel === 'list' ? 'list' : msg.sel, ...msg.args);
    if (name === 's') {
      for (const r of this.boxes.values()) if (r.maxclass === 'newobj' && r.text === `r ${args[0]}`) this.emit(r.id, 0, msg);
      return undefined;
    }
    if (name === 'prepend') return this.emit(id, 0, message([...args, ...atomsOf(msg)]));
    if (name === 'route') {
      const first = msg.sel === 'list' ? msg.args[0] : msg.sel;
      const rest = msg.sel === 'list' ? msg.args.slice(1) : msg.args;
      const i = args.indexOf(String(first));
      return i >= 0 ? this.emit(id, i, message(rest)) : this.emit(id, args.length, msg);
    }
    if (name === 't' || name === 'trigger') {
      for (let i = args.length - 1; i >= 0; i -= 1) {
        this.emit(id, i, args[i] === 'b' ? bang() : message(atomsOf(msg)));
      }
      return undefined;
    }
    if (name === 'zl' && args[0] === 'iter') {
      const size = Number(args[1]);
      const at = args.indexOf('@zlmaxsize');
      const max = at >= 0 ? Number(args[at + 1]) : ZL_DEFAULT_MAXSIZE;
      const list = atomsOf(msg).slice(0, max);
      for (let i = 0; i < list.length; i += size) this.emit(id, 0, message(list.slice(i, i + size)));
      return undefined;
    }
    throw new Error(`the interpreter does not know ${b.text} (${id})`);
  }

  textedit(b, msg) {
    const s = this.state.get(b.id);
    if (msg.sel === 'set') s.text = msg.args.join(' ');
    else if (msg.sel === 'clear') s.text = '';
    else throw new Error(`textedit ${b.id} got ${msg.sel}`);
  }

  fn(b, msg) {
    const s = this.state.get(b.id);
    if (msg.sel === 'clear') s.points = [];
    else if (msg.sel === 'list' && msg.args.length === 2) {
      s.points.push([Number(msg.args[0]), Number(msg.args[1])]);
      s.points.sort((p, q) => p[0] - q[0]);
    } else if (msg.sel === 'setdomain') {
      const d = Number(msg.args[0]);
      s.points = s.points.map(([x, y]) => [x * d / s.domain, y]);
      s.domain = d;
    } else if (msg.sel === 'listdump') {
      this.emit(b.id, 2, message(s.points.flat()));
    } else throw new Error(`function ${b.id} got ${msg.sel} ${msg.args.join(' ')}`);
  }

  multislider(b, msg) {
    if (msg.sel !== 'set') throw new Error(`multislider ${b.id} got ${msg.sel}`);
    this.state.get(b.id).values = msg.args.map(Number);
  }

  /** The producer drags the bars of a multislider: it outputs every value as one list. */
  slide(varname, values) {
    const b = this.byVar(varname);
    const [lo, hi] = b.setminmax;
    this.state.get(b.id).values = values.map((v) => Math.max(lo, Math.min(hi, v)));
    this.emit(b.id, 0, message(this.state.get(b.id).values.slice()));
  }

  /** The producer types into the prompt box and presses Return. */
  type(varname, text) {
    const b = this.byVar(varname);
    this.state.get(b.id).text = text;
    const words = b.outputmode === 1 ? [text] : text.split(/\s+/);
    this.emit(b.id, 0, { sel: 'text', args: words });
  }

  /** The producer drags points in the editor: they change, then it bangs its fourth outlet. */
  draw(varname, points) {
    const b = this.byVar(varname);
    this.state.get(b.id).points = points.map((p) => p.slice());
    this.emit(b.id, 3, bang());
  }

  text(varname) { return this.state.get(this.byVar(varname).id).text; }
  values(varname) { return this.state.get(this.byVar(varname).id).values; }
  points(varname) { return this.state.get(this.byVar(varname).id).points; }
}

function device() {
  const set = buildSet();
  const env = loadDevice(set.sim);
  const sim = new PatcherSim(P, env);
  return { set, env, sim };
}

const PROMPT = 'dusty funk, live drums; 90 bpm, no vocals';
const CURVE = [[0, -30], [6, -15.5], [12, -36], [16, -20]];

test('the js object is the Stored Only blob parameter that keeps the state, and the script reads and writes it', () => {
  const js = [...new PatcherSim(P, { onUi: null }).boxes.values()].find((b) => b.maxclass === 'newobj' && b.text === 'js ditto_device.js');
  assert.equal(js.saved_object_attributes.parameter_enable, 1, 'Parameter Mode on the js object');
  const v = js.saved_attribute_attributes.valueof;
  assert.equal(v.parameter_type, 3, 'type blob: any list or symbol');
  assert.equal(v.parameter_invisible, 1, 'Stored Only: saved with the set, not automatable');
  assert.ok(v.parameter_longname && v.parameter_shortname && v.parameter_shortname.length <= 8);
  assert.deepEqual(P.parameters[js.id], [v.parameter_longname, v.parameter_shortname, 0]);
  const { env } = device();
  for (const fn of ['getvalueof', 'setvalueof']) assert.equal(typeof env.context[fn], 'function', `the script defines ${fn}`);
});

test('the prompt box sends its text as one symbol: commas and semicolons reach the script inside the prompt', () => {
  const { env, sim } = device();
  env.deviceLoaded();
  assert.equal(sim.byVar('tags').outputmode, 1);
  sim.type('tags', PROMPT);
  assert.equal(env.context.settings.tags, PROMPT);
});

test('saved with the set and opened again: the prompt and the drawn curve come back into the box and the editor', () => {
  const first = device();
  first.env.deviceLoaded();
  first.sim.type('tags', PROMPT);
  first.sim.draw('intensity_curve', CURVE);
  assert.deepEqual(Array.from(first.env.context.state.drawn, (p) => Array.from(p)), CURVE, 'the editor\'s points reach the script');
  const saved = first.env.saveState();

  for (const order of ['restored after the device loads', 'restored before live.thisdevice bangs']) {
    const again = device();
    if (order.includes('after')) again.env.deviceLoaded();
    again.env.restoreState(saved);
    if (order.includes('before')) again.env.deviceLoaded();
    assert.equal(again.sim.text('tags'), PROMPT, `${order}: the prompt box shows the prompt`);
    assert.deepEqual(again.sim.points('intensity_curve'), CURVE, `${order}: the editor shows the curve`);
    assert.equal(again.env.context.settings.tags, PROMPT);
    assert.deepEqual(Array.from(again.env.context.state.drawn, (p) => Array.from(p)), CURVE);
  }
});

test('a set saved with an empty editor opens with an empty editor', () => {
  const first = device();
  first.env.deviceLoaded();
  first.sim.draw('intensity_curve', []);
  const saved = first.env.saveState();
  const again = device();
  again.env.deviceLoaded();
  assert.ok(again.sim.points('intensity_curve').length > 0, 'the editor starts with the patcher\'s two points');
  again.env.restoreState(saved);
  assert.deepEqual(again.sim.points('intensity_curve'), []);
});

test('a curve of 300 points comes back whole (zl iter is given room beyond its 256-item default)', () => {
  const curve = Array.from({ length: 300 }, (_, i) => [Math.round(i * 16 / 299 * 1000) / 1000, -39 + (i % 26)]);
  const first = device();
  first.env.deviceLoaded();
  first.sim.draw('intensity_curve', curve);
  const again = device();
  again.env.deviceLoaded();
  again.env.restoreState(first.env.saveState());
  assert.equal(again.sim.points('intensity_curve').length, 300);
  assert.deepEqual(again.sim.points('intensity_curve'), curve);
});

test('the Rhythm step editor: drawn steps reach the script, and a saved pattern comes back into the editor', () => {
  const steps = [1, 0, 0.5, 0, 0.75, 0, 0.5, 0.25, 1, 0, 0.5, 0, 0.75, 0, 0.5, 0];
  const first = device();
  first.env.deviceLoaded();
  first.sim.slide('rhythm_steps', steps.map((v, i) => (i === 3 ? 1.5 : v)));
  const drawn = steps.map((v, i) => (i === 3 ? 1 : v));
  assert.deepEqual(Array.from(first.env.context.settings.pattern), drawn, 'the editor\'s list reaches the script');
  const saved = first.env.saveState();

  for (const order of ['restored after the device loads', 'restored before live.thisdevice bangs']) {
    const again = device();
    if (order.includes('after')) again.env.deviceLoaded();
    assert.deepEqual(again.sim.values('rhythm_steps'), new Array(16).fill(0), 'a new device starts with no steps');
    again.env.restoreState(saved);
    if (order.includes('before')) again.env.deviceLoaded();
    assert.deepEqual(again.sim.values('rhythm_steps'), drawn, `${order}: the editor shows the steps`);
    assert.deepEqual(Array.from(again.env.context.settings.pattern), drawn);
  }
});
