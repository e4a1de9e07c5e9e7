'use strict';
/** The device's JavaScript must run in Max 8's `js` object (SpiderMonkey 1.8.5): ES5 only. */

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const acorn = require('acorn');
const { DEVICE_JS } = require('./max_env');

const SOURCE = fs.readFileSync(DEVICE_JS, 'utf8');

test('device JavaScript parses as ECMAScript 5', () => {
  assert.doesNotThrow(() => acorn.parse(SOURCE, { ecmaVersion: 5, sourceType: 'script' }));
});

test('the ES5 check would catch ES2015 syntax (let, arrow functions, template literals, classes)', () => {
  for (const snippet of ['let a = 1;', 'var f = () => 1;', 'var s = `x`;', 'class A {}', 'const b = 2;']) {
    assert.throws(() => acorn.parse(snippet, { ecmaVersion: 5 }), SyntaxError, snippet);
  }
});

test('device JavaScript avoids ES2015+ library calls that ES5 parsing cannot see', () => {
  const code = SOURCE.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  for (const name of ['.includes(', '.startsWith(', '.endsWith(', '.padStart(', 'Object.assign(', 'Array.from(',
    '.find(', '.findIndex(', 'Promise', 'setTimeout(', 'Symbol(', 'new Map(', 'new Set(', '.repeat(" ']) {
    assert.ok(!code.includes(name), `device JavaScript uses ${name}`);
  }
});

test('the script declares one inlet and two outlets (the patcher\'s js box has the same)', () => {
  assert.match(SOURCE, /^inlets = 1;$/m);
  assert.match(SOURCE, /^outlets = 2;$/m);
});
