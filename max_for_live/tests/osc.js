'use strict';
/**
 * OSC 1.0 over UDP for the tests, written here: an encoder/decoder (strings, int32, float32,
 * blobs, bundles) and a bridge that plays the role of Max's `udpsend` / `udpreceive` pair around a
 * device loaded with max_env.js. Only 127.0.0.1 is used.
 */

const dgram = require('dgram');

function pad4(n) { return (4 - (n % 4)) % 4; }

function oscString(s) {
  const body = Buffer.from(String(s), 'utf8');
  return Buffer.concat([body, Buffer.alloc(1 + pad4(body.length + 1))]);
}

/**
 * Encodes one message. `args` are [{type, value}] or plain values typed as Max's udpsend types
 * them: a string is 's', an integral number 'i', any other number 'f'.
 */
function encodeMessage(address, args) {
  const typed = (args || []).map((a) => {
    if (a && typeof a === 'object' && 'type' in a) return a;
    if (typeof a === 'string') return { type: 's', value: a };
    if (typeof a === 'number') return { type: Number.isInteger(a) ? 'i' : 'f', value: a };
    throw new TypeError(`cannot encode OSC argument ${a}`);
  });
  const parts = [oscString(address), oscString(`,${typed.map((a) => a.type).join('')}`)];
  for (const a of typed) {
    if (a.type === 's') parts.push(oscString(a.value));
    else if (a.type === 'i') { const b = Buffer.alloc(4); b.writeInt32BE(a.value); parts.push(b); }
    else if (a.type === 'f') { const b = Buffer.alloc(4); b.writeFloatBE(a.value); parts.push(b); }
    else if (a.type === 'b') {
      const size = Buffer.alloc(4); size.writeInt32BE(a.value.length);
      parts.push(size, a.value, Buffer.alloc(pad4(a.value.length)));
    } else throw new TypeError(`unsupported OSC type ${a.type}`);
  }
  return Buffer.concat(parts);
}

function readString(buf, offset) {
  const end = buf.indexOf(0, offset);
  if (end < 0) throw new RangeError('OSC string without terminator');
  const value = buf.toString('utf8', offset, end);
  const next = end + 1 + pad4(end + 1 - offset);
  return { value, next };
}

/** Decodes a datagram into messages [{address, types, args}] (bundles are flattened). */
function decodePacket(buf) {
  if (buf.length >= 8 && buf.toString('ascii', 0, 8) === '#bundle\0') {
    const out = [];
    let offset = 16;
    while (offset + 4 <= buf.length) {
      const size = buf.readInt32BE(offset);
      out.push(...decodePacket(buf.subarray(offset + 4, offset + 4 + size)));
      offset += 4 + size;
    }
    return out;
  }
  const addr = readString(buf, 0);
  const tags = readString(buf, addr.next);
  if (!tags.value.startsWith(',')) throw new RangeError('OSC message without type tags');
  const types = tags.value.slice(1);
  const args = [];
  let offset = tags.next;
  for (const t of types) {
    if (t === 's') { const s = readString(buf, offset); args.push(s.value); offset = s.next; }
    else if (t === 'i') { args.push(buf.readInt32BE(offset)); offset += 4; }
    else if (t === 'f') { args.push(buf.readFloatBE(offset)); offset += 4; }
    else if (t === 'd') { args.push(buf.readDoubleBE(offset)); offset += 8; }
    else if (t === 'h') { args.push(Number(buf.readBigInt64BE(offset))); offset += 8; }
    else if (t === 'b') {
      const size = buf.readInt32BE(offset);
      args.push(buf.subarray(offset + 4, offset + 4 + size)); offset += 4 + size + pad4(size);
    } else if (t === 'T') args.push(1);
    else if (t === 'F') args.push(0);
    else if (t === 'N' || t === 'I') args.push(null);
    else throw new RangeError(`unsupported OSC type tag ${t}`);
  }
  return [{ address: addr.value, types, args }];
}

/**
 * Plays `udpsend 127.0.0.1 <daemonPort>` and `udpreceive <replyPort>` for a device environment:
 * what the script sends out of outlet 0 is encoded and sent; datagrams on the reply port are decoded
 * and sent into the script as Max messages (selector = OSC address). `received` logs the replies.
 */
class MaxUdpBridge {
  constructor(env, { daemonPort, replyPort }) {
    this.env = env;
    this.daemonPort = daemonPort;
    this.replyPort = replyPort;
    this.received = [];
    this.listeners = [];
    this.sender = dgram.createSocket('udp4');
    this.receiver = dgram.createSocket('udp4');
  }

  async start() {
    await new Promise((resolve, reject) => {
      this.receiver.once('error', reject);
      this.receiver.bind(this.replyPort, '127.0.0.1', resolve);
    });
    if (!this.replyPort) this.replyPort = this.receiver.address().port;
    this.receiver.on('message', (data) => {
      for (const msg of decodePacket(data)) {
        this.received.push(msg);
        this.env.send(msg.address, ...msg.args);
        for (const l of this.listeners.slice()) l(msg);
      }
    });
    this.env.onOsc = (address, args) => {
      this.sender.send(encodeMessage(address, args), this.daemonPort, '127.0.0.1');
    };
  }

  /** Resolves with the first reply matching `predicate`, or rejects after `timeoutMs`. */
  waitFor(predicate, timeoutMs, what) {
    const hit = this.received.find(predicate);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== listener);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received: ${JSON.stringify(this.received.map((m) => [m.address, ...m.args]))}`));
      }, timeoutMs);
      const listener = (msg) => {
        if (!predicate(msg)) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== listener);
        resolve(msg);
      };
      this.listeners.push(listener);
    });
  }

  close() {
    this.env.onOsc = null;
    this.sender.close();
    this.receiver.close();
  }
}

module.exports = { encodeMessage, decodePacket, MaxUdpBridge };
