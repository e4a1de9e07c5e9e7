'use strict';
/**
 * Runs device/ditto_device.js the way Max's `js` object does, inside a fresh V8 context whose globals
 * are Max's JavaScript globals: LiveAPI (from the LOM simulator), Task (on a clock the test drives),
 * File, outlet, post, arrayfromargs, messagename, messnamed, notifyclients, setinletassist/setoutletassist.
 *
 * Messages reach the script as Max dispatches them: `send("bars", 8)` calls the function `bars`;
 * a selector without a function (an OSC address from udpreceive) goes to `anything()` with
 * `messagename` set; "bang" calls `bang()`.
 */

const fs = require('fs');
const path = require('path');
const vm = require('vm');

const DEVICE_JS = path.join(__dirname, '..', 'device', 'ditto_device.js');

/** A clock for Max's Task: nothing runs until the test calls advance() or flush(). */
class TaskClock {
  constructor() {
    this.now = 0;
    this.queue = [];
    this.seq = 0;
  }

  add(task, at) { this.queue.push({ task, at, seq: this.seq += 1 }); }

  remove(task) { this.queue = this.queue.filter((e) => e.task !== task); }

  /** Runs every task due within the next `ms` milliseconds, in time order. */
  advance(ms) {
    const end = this.now + ms;
    for (;;) {
      const due = this.queue.filter((e) => e.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq);
      if (!due.length) break;
      const next = due[0];
      this.queue.splice(this.queue.indexOf(next), 1);
      this.now = Math.max(this.now, next.at);
      next.task._run();
    }
    this.now = end;
  }

  /** Runs what is due now (deferred work scheduled with a delay of 0). */
  flush() { this.advance(0); }
}

function makeTaskClass(clock) {
  function Task(fn, obj) {
    this._fn = fn;
    this._obj = obj;
    this._args = Array.prototype.slice.call(arguments, 2);
    this.interval = 500;
    this.running = 0;
    this.iterations = 0;
    this._remaining = 0;
  }
  Task.prototype._run = function run() {
    this.iterations += 1;
    this._fn.apply(this._obj, this._args);
    if (this._remaining < 0 || (this._remaining -= 1) > 0) {
      clock.add(this, clock.now + this.interval);
    } else {
      this.running = 0;
    }
  };
  Task.prototype.repeat = function repeat(n, initialDelay) {
    clock.remove(this);
    this._remaining = n === undefined || n < 0 ? -1 : n;
    this.running = 1;
    clock.add(this, clock.now + (initialDelay || 0));
  };
  Task.prototype.schedule = function schedule(delay) {
    clock.remove(this);
    this._remaining = 1;
    this.running = 1;
    clock.add(this, clock.now + (delay || 0));
  };
  Task.prototype.cancel = function cancel() {
    clock.remove(this);
    this.running = 0;
  };
  Task.prototype.execute = function execute() { this._fn.apply(this._obj, this._args); };
  return Task;
}

/** Max's File object, for the modes the device uses ("write", "TEXT"). */
function makeFileClass() {
  function File(filePath, access) {
    this._path = String(filePath);
    this._text = '';
    this._read = 0;
    this.isopen = false;
    if (access === 'read') {
      try {
        this._text = fs.readFileSync(this._path, 'utf8');
        this._reading = true;
        this.isopen = true;
      } catch (e) {
        this.isopen = false;
      }
    } else if (access === 'write' || access === 'readwrite') {
      try {
        fs.writeFileSync(this._path, '');
        this.isopen = true;
      } catch (e) {
        this.isopen = false;
      }
    }
  }
  File.prototype.writestring = function writestring(s) { this._text += String(s); };
  File.prototype.readstring = function readstring(count) {
    const out = this._text.substr(this._read, count);
    this._read += out.length;
    return out;
  };
  Object.defineProperty(File.prototype, 'position', { get() { return this._reading ? this._read : this._text.length; } });
  Object.defineProperty(File.prototype, 'eof', { get() { return this._text.length; }, set() {} });
  File.prototype.close = function close() {
    if (this.isopen && !this._reading) fs.writeFileSync(this._path, this._text);
    this.isopen = false;
  };
  return File;
}

/**
 * Loads the device script against a LiveSim. Returns an environment:
 *   send(selector, ...args)   a Max message into the js object's inlet
 *   osc                       messages sent out of outlet 0 (to udpsend): [{address, args}]
 *   onOsc                     set to a function(address, args) to forward them (the e2e test does)
 *   uiState                   last value per UI selector (status, error, progress, connected, domain)
 *   uiLog                     every UI message in order
 *   console                   what the script printed with post()
 *   onUi                      set to a function(selector, args) to act as the patcher on UI messages
 *   named                     messages sent with messnamed(): [[name, message, args...]]
 *   notified                  how many times the script called notifyclients()
 *   saveState(), restoreState(atoms), deleteDevice()   what Max and Live do when a set is saved,
 *                             loaded, or the device removed
 *   clock                     the TaskClock (advance(ms), flush())
 *   context                   the script's global object (its functions, for pure-function tests)
 */
function loadDevice(sim, opts) {
  const o = opts || {};
  const clock = new TaskClock();
  const env = {
    osc: [], uiLog: [], uiState: {}, console: [], clock, onOsc: null, onUi: null, sim, named: [], notified: 0,
  };
  const context = {
    LiveAPI: sim ? sim.LiveAPI : function NoLive() { throw new Error('no Live in this test'); },
    Task: makeTaskClass(clock),
    File: makeFileClass(),
    post(...args) { env.console.push(args.join(' ')); },
    outlet(index, ...values) {
      // Arrays made inside the script belong to its realm: copy them into this one.
      const atoms = Array.from(values.length === 1 && Array.isArray(values[0]) ? values[0] : values);
      if (index === 0) {
        const msg = { address: String(atoms[0]), args: atoms.slice(1) };
        env.osc.push(msg);
        if (env.onOsc) env.onOsc(msg.address, msg.args);
      } else {
        const [selector, ...rest] = atoms;
        env.uiLog.push([selector, ...rest]);
        env.uiState[selector] = rest.length <= 1 ? rest[0] : rest;
        if (env.onUi) env.onUi(String(selector), rest);
      }
    },
    arrayfromargs(a, b) {
      const args = b === undefined ? a : b;
      const list = Array.prototype.slice.call(args);
      return b === undefined ? list : [a].concat(list);
    },
    setinletassist() {},
    setoutletassist() {},
    /** Max's messnamed(name, message, ...args): a message to the object named `name` (e.g. "max"). */
    messnamed(name, ...rest) { env.named.push([String(name)].concat(rest)); },
    /** jsthis.notifyclients(): tells pattr and Live that getvalueof's value changed. */
    notifyclients() { env.notified += 1; },
    messagename: '',
    jsarguments: ['ditto_device.js'],
  };
  vm.createContext(context);
  const source = fs.readFileSync(o.file || DEVICE_JS, 'utf8');
  vm.runInContext(source, context, { filename: 'ditto_device.js' });

  env.context = context;
  env.send = (selector, ...args) => {
    if (selector === 'bang') return context.bang();
    const fn = context[selector];
    if (typeof fn === 'function' && !selector.startsWith('/')) return fn.apply(context, args);
    context.messagename = selector;
    return context.anything.apply(context, args);
  };
  /**
   * What Live stores for the js object's blob parameter when the set is saved: Max asks getvalueof() and
   * keeps the value as a list of atoms (an Array's elements, or the one value), numbers and symbols.
   * Returned as it would come back from the saved set (a JSON round trip, as a file keeps it).
   */
  env.saveState = () => {
    const value = context.getvalueof();
    const atoms = Array.isArray(value) ? Array.from(value) : [value];
    return JSON.parse(JSON.stringify(atoms.map((a) => (typeof a === 'number' ? a : String(a)))));
  };
  /** Live loading the set: the stored atoms go back to the js object as the arguments of setvalueof(). */
  env.restoreState = (atoms) => context.setvalueof.apply(context, atoms);
  /** The object is deleted (the device removed from the set): Max calls notifydeleted(). */
  env.deleteDevice = () => context.notifydeleted();
  /** live.thisdevice bangs: the Live API becomes usable, then the device initialises. */
  env.deviceLoaded = () => {
    if (sim) sim.markDeviceReady();
    env.send('bang');
  };
  return env;
}

module.exports = { loadDevice, TaskClock, DEVICE_JS };
