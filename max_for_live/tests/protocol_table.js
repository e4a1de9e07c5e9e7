'use strict';
/**
 * Reads the address table from docs/PROTOCOL.md: the fenced block tagged `json ditto-protocol`.
 * The Python tests of the daemon parse the same block, so the device and the daemon cannot drift.
 */

const fs = require('fs');
const path = require('path');

const PROTOCOL_MD = path.join(__dirname, '..', '..', 'docs', 'PROTOCOL.md');

function loadProtocolTable(file) {
  const text = fs.readFileSync(file || PROTOCOL_MD, 'utf8');
  const match = text.match(/```json ditto-protocol\n([\s\S]*?)\n```/);
  if (!match) throw new Error(`${file || PROTOCOL_MD}: no \`\`\`json ditto-protocol block`);
  return JSON.parse(match[1]);
}

/** The documented job fields (first column of "A job in Live units"), e.g. "song.tempo", "clip". */
function loadJobFields(file) {
  const text = fs.readFileSync(file || PROTOCOL_MD, 'utf8');
  const section = text.split('## A job in Live units')[1];
  if (!section) throw new Error('PROTOCOL.md: no "A job in Live units" section');
  const fields = new Set();
  for (const line of section.split('\n')) {
    const m = line.match(/^\|\s*(`[^|]+`)\s*\|/);
    if (!m) continue;
    for (const name of m[1].match(/`([^`]+)`/g)) fields.add(name.replace(/`/g, ''));
  }
  return fields;
}

module.exports = { loadProtocolTable, loadJobFields, PROTOCOL_MD };
