'use strict';
/**
 * The built devices: device/DittoBridge.amxd parses back into the patcher source, every patch cord
 * joins existing boxes at existing inlets and outlets, the presentation view holds every control,
 * parameters are named for Live, and the wiring agrees with the device JavaScript.
 * device/frozen/DittoBridge.amxd carries the patcher and the script inside, laid out as Max lays out
 * Ableton's FrozenTest.amxd (tests/fixtures/amxd/, from Ableton/maxdevtools, MIT), read here by a
 * reader written apart from build_amxd.py, after the description in maxdevtools' maxdiff.
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { loadProtocolTable } = require('./protocol_table');
const { DEVICE_JS, loadDevice } = require('./max_env');
const { buildSet, tempDir } = require('./fixtures');

const ROOT = path.join(__dirname, '..');
const AMXD = path.join(ROOT, 'device', 'DittoBridge.amxd');
const FROZEN_AMXD = path.join(ROOT, 'device', 'frozen', 'DittoBridge.amxd');
const MAX_FIXTURES = path.join(__dirname, 'fixtures', 'amxd');
const SOURCE = path.join(ROOT, 'src', 'DittoBridge.maxpat');
const TABLE = loadProtocolTable();
const JS_SOURCE = fs.readFileSync(DEVICE_JS, 'utf8');

/** Splits .amxd bytes into chunks: [{tag, data}] (4-byte tag, little-endian uint32 size). */
function readChunks(buf) {
  const chunks = [];
  let offset = 0;
  while (offset + 8 <= buf.length) {
    const tag = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    chunks.push({ tag, data: buf.subarray(offset + 8, offset + 8 + size) });
    offset += 8 + size;
  }
  assert.equal(offset, buf.length, 'chunks must cover the whole file');
  return chunks;
}

function readAmxd() {
  const chunks = readChunks(fs.readFileSync(AMXD));
  const byTag = Object.fromEntries(chunks.map((c) => [c.tag, c.data]));
  const ptch = byTag.ptch;
  assert.equal(ptch[ptch.length - 1], 0, 'ptch ends with a NUL byte');
  return { chunks, type: byTag.ampf.toString('ascii'), patcher: JSON.parse(ptch.subarray(0, -1).toString('utf8')) };
}

const { chunks, type, patcher: PATCHER } = readAmxd();
const P = PATCHER.patcher;
const BOXES = new Map(P.boxes.map((b) => [b.box.id, b.box]));
const boxesWhere = (pred) => P.boxes.map((b) => b.box).filter(pred);
const objectName = (b) => (b.maxclass === 'newobj' ? b.text.split(/\s+/)[0] : b.maxclass);

/**
 * Inlets and outlets of the Max objects the device uses, from Max's reference pages
 * (route: 2 inlets, one outlet per argument plus the reject outlet).
 */
function expectedIo(b) {
  const args = b.maxclass === 'newobj' ? b.text.split(/\s+/).slice(1) : [];
  const table = {
    'plugin~': [2, 2], 'plugout~': [2, 2], 'live.thisdevice': [1, 3], loadbang: [1, 1], 'dspstate~': [1, 4],
    udpsend: [1, 0], udpreceive: [1, 1], s: [1, 0], r: [0, 1], prepend: [1, 1], t: [1, args.length],
    opendialog: [1, 2], route: [2, args.length + 1], message: [2, 1], comment: [1, 0],
    'live.menu': [1, 3], 'live.tab': [1, 3], 'live.numbox': [1, 2], 'live.dial': [1, 2], 'live.text': [1, 2],
    textedit: [1, 4], function: [1, 4], led: [1, 1], slider: [1, 1], zl: [2, 2], multislider: [1, 2],
  };
  const name = objectName(b);
  if (name === 'js') {
    return [Number(JS_SOURCE.match(/^inlets = (\d+);$/m)[1]), Number(JS_SOURCE.match(/^outlets = (\d+);$/m)[1])];
  }
  assert.ok(table[name], `no inlet/outlet count known for ${name} (${b.id})`);
  return table[name];
}

test('the .amxd is an Audio Effect: ampf "aaaa", then meta, then ptch', () => {
  assert.deepEqual(chunks.map((c) => c.tag), ['ampf', 'meta', 'ptch']);
  assert.equal(type, 'aaaa');
  assert.equal(chunks[1].data.length, 4);
  assert.equal(P.project.amxdtype, Buffer.from('aaaa').readUInt32BE(0));
});

test('the .amxd parses back into the patcher source', () => {
  assert.deepEqual(PATCHER, JSON.parse(fs.readFileSync(SOURCE, 'utf8')));
});

test('the committed devices, unfrozen and frozen, are what build_amxd.py makes from the sources today', () => {
  const run = spawnSync('python3', [path.join(ROOT, 'build_amxd.py'), '--check'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr || run.stdout);
});

test('every box has the inlets and outlets its Max object has', () => {
  for (const b of BOXES.values()) {
    const [inlets, outlets] = expectedIo(b);
    assert.equal(b.numinlets, inlets, `${b.id} (${objectName(b)}) inlets`);
    assert.equal(b.numoutlets, outlets, `${b.id} (${objectName(b)}) outlets`);
    assert.equal((b.outlettype || []).length, outlets, `${b.id} outlettype`);
  }
});

test('every patch cord joins existing boxes at existing outlets and inlets', () => {
  assert.ok(P.lines.length > 40);
  for (const { patchline } of P.lines) {
    const [src, outlet] = patchline.source;
    const [dst, inlet] = patchline.destination;
    assert.ok(BOXES.has(src), `cord from missing box ${src}`);
    assert.ok(BOXES.has(dst), `cord to missing box ${dst}`);
    assert.ok(outlet >= 0 && outlet < BOXES.get(src).numoutlets, `${src} has no outlet ${outlet}`);
    assert.ok(inlet >= 0 && inlet < BOXES.get(dst).numinlets, `${dst} has no inlet ${inlet}`);
  }
});

test('the device opens in Presentation mode and shows every control the issue asks for', () => {
  assert.equal(P.openinpresentation, 1);
  const shown = boxesWhere((b) => b.presentation === 1);
  const byVar = (name) => shown.find((b) => b.varname === name);
  const enumOf = (b) => b.saved_attribute_attributes.valueof.parameter_enum;
  assert.deepEqual(enumOf(byVar('Task')),
    ['Generate', 'Inpaint', 'Continue', 'Loop', 'Match melody', 'Structure', 'Rhythm']);
  assert.equal(byVar('Task').maxclass, 'live.menu');
  assert.equal(byVar('tags').maxclass, 'textedit');
  assert.equal(byVar('Length (bars)').maxclass, 'live.numbox');
  assert.equal(byVar('Steps').maxclass, 'live.numbox');
  assert.deepEqual(enumOf(byVar('Quality')), TABLE.qualities);
  assert.equal(byVar('Seed').maxclass, 'live.numbox');
  assert.equal(byVar('Variations').maxclass, 'live.numbox');
  assert.equal(byVar('Generate').text, 'Generate');
  assert.equal(byVar('Cancel').text, 'Cancel');
  assert.equal(byVar('progress').maxclass, 'slider');
  assert.equal(byVar('status').maxclass, 'comment');
  assert.equal(byVar('error').maxclass, 'comment');
  assert.equal(byVar('connection').maxclass, 'led');
  assert.equal(byVar('intensity_curve').maxclass, 'function');
  assert.equal(byVar('Intensity').maxclass, 'live.dial');
  assert.deepEqual(enumOf(byVar('Intensity Source')), ['Off', 'Drawn', 'Automation']);
  assert.equal(byVar('Record Intensity').maxclass, 'live.text');
  assert.equal(byVar('Range Source').maxclass, 'live.tab');
  assert.equal(byVar('Import Target').maxclass, 'live.menu');
  assert.equal(byVar('Fresh Idea').text, 'Fresh');
  assert.equal(byVar('Idea').maxclass, 'live.numbox');
  assert.equal(byVar('rhythm_steps').maxclass, 'multislider');
  assert.equal(byVar('Swing').maxclass, 'live.dial');
  assert.deepEqual(enumOf(byVar('Rhythm Resolution')), ['1/4', '1/8', '1/8T', '1/16', '1/16T', '1/32']);
  assert.deepEqual(enumOf(byVar('Rhythm Source')), ['Clip', 'Steps']);
  for (const b of shown) {
    const [x, y, w, h] = b.presentation_rect;
    assert.ok(x >= 0 && y >= 0 && x + w <= P.devicewidth && y + h <= 169, `${b.id} lies outside the device (${b.presentation_rect})`);
  }
});

test('parameters have Long and Short names; Intensity is automatable, in dB, -39 to -14', () => {
  const params = boxesWhere((b) => b.maxclass.startsWith('live.') && b.maxclass !== 'live.thisdevice' && b.maxclass !== 'newobj');
  assert.ok(params.length >= 13);
  for (const b of params) {
    const v = b.saved_attribute_attributes.valueof;
    assert.equal(b.parameter_enable, 1, b.id);
    assert.ok(v.parameter_longname && v.parameter_shortname, `${b.id} needs Long and Short names`);
    assert.ok(v.parameter_shortname.length <= 8, `${b.id} short name too long`);
    assert.deepEqual(P.parameters[b.id], [v.parameter_longname, v.parameter_shortname, 0]);
  }
  const intensity = params.find((b) => b.varname === 'Intensity').saved_attribute_attributes.valueof;
  assert.equal(intensity.parameter_invisible, undefined, 'Intensity must be Automated and Stored');
  assert.equal(intensity.parameter_unitstyle, 4, 'dB');
  assert.equal(intensity.parameter_mmin, -39);
  assert.equal(intensity.parameter_mmax, -14);
  const idea = params.find((b) => b.varname === 'Idea').saved_attribute_attributes.valueof;
  assert.equal(idea.parameter_invisible, 1, 'Idea is stored with the set, like Seed');
  for (const name of ['Generate', 'Cancel', 'Choose Inbox', 'Fresh Idea']) {
    assert.equal(params.find((b) => b.varname === name).saved_attribute_attributes.valueof.parameter_invisible, 2, `${name} is hidden from automation`);
  }
});

test('named sends and receives start with --- and come in pairs', () => {
  const named = boxesWhere((b) => b.maxclass === 'newobj' && /^(s|r|send|receive) /.test(b.text));
  assert.ok(named.length >= 2);
  const names = { s: new Set(), r: new Set() };
  for (const b of named) {
    const [kind, name] = b.text.split(/\s+/);
    assert.ok(name.startsWith('---'), `${b.text} must start with ---`);
    names[kind[0]].add(name);
  }
  assert.deepEqual([...names.s].sort(), [...names.r].sort());
});

test('OSC objects use the table\'s ports: udpsend to the daemon port, udpreceive on the reply port', () => {
  const send = boxesWhere((b) => b.maxclass === 'newobj' && b.text.startsWith('udpsend'))[0];
  const recv = boxesWhere((b) => b.maxclass === 'newobj' && b.text.startsWith('udpreceive'))[0];
  assert.equal(send.text, `udpsend 127.0.0.1 ${TABLE.default_port}`);
  assert.equal(recv.text, `udpreceive ${TABLE.default_reply_port}`);
});

test('the wiring agrees with the script: js loads ditto_device.js, prepends name its functions, route names its UI selectors', () => {
  const js = boxesWhere((b) => b.maxclass === 'newobj' && b.text.startsWith('js '))[0];
  assert.equal(js.text, 'js ditto_device.js');
  assert.ok(fs.existsSync(path.join(path.dirname(AMXD), 'ditto_device.js')), 'ditto_device.js sits next to the .amxd');
  const intoJs = P.lines.filter((l) => l.patchline.destination[0] === js.id).map((l) => BOXES.get(l.patchline.source[0]));
  for (const b of intoJs) {
    if (b.maxclass === 'newobj' && b.text.startsWith('prepend ')) {
      const fn = b.text.split(' ')[1];
      assert.match(JS_SOURCE, new RegExp(`^function ${fn}\\(`, 'm'), `js has no function ${fn} for ${b.text}`);
    }
  }
  const sources = new Set(intoJs.map(objectName));
  for (const needed of ['live.thisdevice', 'udpreceive', 'prepend']) assert.ok(sources.has(needed), `${needed} feeds js`);
  const route = boxesWhere((b) => b.maxclass === 'newobj' && b.text.startsWith('route status'))[0];
  const selectors = new Set([...JS_SOURCE.matchAll(/\bui(?:\(|\.apply\(this, \[)"([a-z]+)"/g)].map((m) => m[1]));
  assert.deepEqual(route.text.split(/\s+/).slice(1).sort(), [...selectors].sort());
});

test('the breakpoint editor reports its points to the script and uses the Intensity range', () => {
  const fn = boxesWhere((b) => b.maxclass === 'function')[0];
  assert.deepEqual(fn.range, [-39, -14]);
  const fromFn = P.lines.filter((l) => l.patchline.source[0] === fn.id);
  const dumpTarget = BOXES.get(fromFn.find((l) => l.patchline.source[1] === 2).patchline.destination[0]);
  assert.equal(dumpTarget.text, 'prepend breakpoints');
  const onEdit = BOXES.get(fromFn.find((l) => l.patchline.source[1] === 3).patchline.destination[0]);
  assert.equal(onEdit.text, 'listdump');
});

test('audio passes through unchanged: plugin~ feeds plugout~ on both channels', () => {
  const into = P.lines.filter((l) => BOXES.get(l.patchline.source[0]).text === 'plugin~')
    .map((l) => [l.patchline.source[1], BOXES.get(l.patchline.destination[0]).text, l.patchline.destination[1]]);
  assert.deepEqual(into.sort(), [[0, 'plugout~', 0], [1, 'plugout~', 1]]);
});

test('the Idea the script shows goes back into the Idea number box without coming out of it (set)', () => {
  const route = boxesWhere((b) => b.maxclass === 'newobj' && b.text.startsWith('route status'))[0];
  const outlet = route.text.split(/\s+/).slice(1).indexOf('idea');
  const cord = P.lines.find((l) => l.patchline.source[0] === route.id && l.patchline.source[1] === outlet);
  const setter = BOXES.get(cord.patchline.destination[0]);
  assert.equal(setter.text, 'prepend set');
  const target = BOXES.get(P.lines.find((l) => l.patchline.source[0] === setter.id).patchline.destination[0]);
  assert.equal(target.varname, 'Idea');
});

// ---------------------------------------------------------------------------------------------------
// The frozen device. Its ptch chunk is a Max collective, as maxdiff reads it: "mx@c", a big-endian
// uint32 header size (16), a big-endian uint64 offset of the directory; the files back to back; the
// directory "dlst" (uint32 size with its header) of "dire" entries, each a list of fields: 4-byte tag,
// big-endian uint32 size including the 8 header bytes, value.

/** The frozen ptch: {headerSize, directoryAt, dlstSize, entries: [{fields: [[tag, size]], name, type, size, offset, version, flag, mdat, data}]}. */
function readFrozen(ptch) {
  assert.equal(ptch.toString('ascii', 0, 4), 'mx@c', 'the frozen ptch starts with mx@c');
  const headerSize = ptch.readUInt32BE(4);
  const directoryAt = Number(ptch.readBigUInt64BE(8));
  const dir = ptch.subarray(directoryAt);
  assert.equal(dir.toString('ascii', 0, 4), 'dlst', 'the directory starts with dlst');
  const dlstSize = dir.readUInt32BE(4);
  const entries = [];
  let pos = 8;
  while (pos < dlstSize) {
    assert.equal(dir.toString('ascii', pos, pos + 4), 'dire', `a dire entry at directory byte ${pos}`);
    const size = dir.readUInt32BE(pos + 4);
    const entry = { fields: [] };
    for (let f = pos + 8; f < pos + size;) {
      const tag = dir.toString('ascii', f, f + 4);
      const fieldSize = dir.readUInt32BE(f + 4);
      const value = dir.subarray(f + 8, f + fieldSize);
      entry.fields.push([tag, fieldSize]);
      if (tag === 'fnam') entry.rawName = value;
      else if (tag === 'type') entry.type = value.toString('ascii');
      else entry[{ sz32: 'size', of32: 'offset', vers: 'version', flag: 'flag', mdat: 'mdat' }[tag]] = value.readUInt32BE(0);
      f += fieldSize;
    }
    entry.name = entry.rawName.toString('utf8').replace(/\0+$/, '');
    entry.data = ptch.subarray(entry.offset, entry.offset + entry.size);
    entries.push(entry);
    pos += size;
  }
  return { headerSize, directoryAt, dlstSize, directoryLength: dir.length, entries };
}

function readFile(file) {
  const all = readChunks(fs.readFileSync(file));
  const ptch = all.find((c) => c.tag === 'ptch').data;
  return { chunks: all, frozen: readFrozen(ptch) };
}

const FROZEN = readFile(FROZEN_AMXD);
const MAX_FROZEN = readFile(path.join(MAX_FIXTURES, 'FrozenTest.amxd'));

test('the frozen device carries the patcher and ditto_device.js inside, byte for byte', () => {
  const { chunks: frozenChunks, frozen } = FROZEN;
  assert.equal(frozenChunks[0].data.toString('ascii'), 'aaaa');
  assert.deepEqual(frozen.entries.map((e) => [e.name, e.type]), [['DittoBridge.amxd', 'JSON'], ['ditto_device.js', 'TEXT']]);
  const [patch, script] = frozen.entries;
  assert.equal(patch.data[patch.data.length - 1], 0, 'the device patcher ends with a NUL, as in an unfrozen ptch');
  assert.deepEqual(JSON.parse(patch.data.subarray(0, -1).toString('utf8')), JSON.parse(fs.readFileSync(SOURCE, 'utf8')));
  assert.ok(script.data.equals(fs.readFileSync(DEVICE_JS)), 'the script inside is device/ditto_device.js as it is now: run python3 build_amxd.py');
  assert.deepEqual(fs.readdirSync(path.dirname(FROZEN_AMXD)).filter((n) => !n.startsWith('.')), ['DittoBridge.amxd'],
    'nothing beside the frozen device: a loose ditto_device.js there would hide a frozen device that failed to load');
});

test("the frozen layout is FrozenTest.amxd's: chunk order, meta, collective header, directory entries", () => {
  const ours = FROZEN;
  const theirs = MAX_FROZEN;
  assert.deepEqual(ours.chunks.map((c) => c.tag), theirs.chunks.map((c) => c.tag));
  assert.deepEqual(ours.chunks.map((c) => c.tag), ['ampf', 'meta', 'ptch']);
  assert.ok(ours.chunks[1].data.equals(theirs.chunks[1].data), `meta ${ours.chunks[1].data.toString('hex')} as Max writes for a frozen device`);
  for (const { frozen } of [ours, theirs]) {
    assert.equal(frozen.headerSize, 16);
    assert.equal(frozen.dlstSize, frozen.directoryLength, 'the directory runs to the end of the ptch');
    // Files back to back from byte 16, the directory right after the last one.
    let next = 16;
    for (const e of frozen.entries) {
      assert.equal(e.offset, next, `${e.name} follows the file before it`);
      next += e.size;
    }
    assert.equal(frozen.directoryAt, next);
    for (const e of frozen.entries) {
      assert.deepEqual(e.fields.map(([tag]) => tag), ['type', 'fnam', 'sz32', 'of32', 'vers', 'flag', 'mdat'], e.name);
      for (const [tag, size] of e.fields) if (tag !== 'fnam') assert.equal(size, 12, `${e.name} ${tag}`);
      assert.equal(e.rawName.length % 4, 0, `${e.name}: fnam is padded to 4 bytes`);
      assert.equal(e.rawName.length, Buffer.byteLength(e.name) + 4 - (Buffer.byteLength(e.name) % 4), `${e.name}: fnam ends with 1-4 NULs`);
    }
  }
  const [ourPatch, ourScript] = ours.frozen.entries;
  const theirPatch = theirs.frozen.entries[0];
  const theirScript = theirs.frozen.entries.find((e) => e.name === 'VisibleBang.js');
  assert.deepEqual([ourPatch.type, ourPatch.flag, ourPatch.version], [theirPatch.type, theirPatch.flag, theirPatch.version]);
  assert.equal(theirPatch.name, 'Test.amxd');
  assert.deepEqual([ourScript.type, ourScript.flag, ourScript.version], [theirScript.type, theirScript.flag, theirScript.version]);
});

test('the script from inside the frozen device runs and replaces "Loading…" within 5 s (the sign it loaded)', () => {
  const status = boxesWhere((b) => b.varname === 'status')[0];
  assert.equal(status.text, 'Loading…', 'docs/DEVICE.md ("The release") tells producers a device stuck on "Loading…" did not load its script');
  const dir = tempDir('frozen-js-');
  const extracted = path.join(dir, 'ditto_device.js');
  fs.writeFileSync(extracted, FROZEN.frozen.entries[1].data);
  const set = buildSet();
  const env = loadDevice(set.sim, { file: extracted });
  env.deviceLoaded();
  env.clock.advance(5000);
  assert.equal(typeof env.uiState.status, 'string');
  assert.notEqual(env.uiState.status, 'Loading…');
});
