#!/usr/bin/env node
'use strict';

// Independent SOFA Bolt peer for xprotocol's interop tests.
// All encoding/decoding is done by the real third-party library sofa-bolt-node 2.0.1.
//
//   node interop/bolt-peer.js decode [--proto FILE]   stdin: JSON array of frames  -> stdout: JSON array
//   node interop/bolt-peer.js encode [--proto FILE]   stdin: JSON array of cases   -> stdout: JSON array
//
// See README.md for the exact JSON shapes and the quirks of sofa-bolt-node.

const fs = require('fs');
const path = require('path');
const bolt = require('sofa-bolt-node');
const protocol = require('sofa-bolt-node/lib/protocol');
const SimpleMapSerializer = require('sofa-bolt-node/lib/simple_map_serializer');
const ERROR_MESSAGES = require('sofa-bolt-node/lib/protocol/const').errorMessages;
const protobuf = require('protobufjs');

const DEFAULT_PROTO = path.join(__dirname, 'proto', 'echo.proto');
// Used for a protobuf response whose request was not seen earlier in the same batch and that
// names no service/method itself: sofa-bolt-node needs the request to pick the response type.
const DEFAULT_PB_SERVICE = 'com.example.acceptance.EchoService:1.0';
const DEFAULT_PB_METHOD = 'echo';

function parseArgs(argv) {
  const out = { cmd: argv[0], proto: DEFAULT_PROTO };
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] === '--proto') out.proto = argv[++i];
    else throw new Error('unknown argument: ' + argv[i]);
  }
  return out;
}

function loadProto(file) {
  return protobuf.loadSync(file);
}

// ---------------------------------------------------------------------------------------------
// JSON conversion of decoded values (hessian objects, Errors, Buffers, Longs, protobuf messages)

function toJson(v, depth = 0) {
  if (depth > 64) return '[depth limit]';
  if (v === undefined) return null;
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return { $bytes: v.toString('hex') };
  if (v instanceof Error) {
    const o = { $error: true, name: v.name, message: v.message };
    for (const k of Object.keys(v)) o[k] = toJson(v[k], depth + 1);
    return o;
  }
  if (v instanceof Date) return { $date: v.toISOString() };
  if (v instanceof Map) {
    const o = {};
    for (const [k, val] of v) o[String(k)] = toJson(val, depth + 1);
    return o;
  }
  if (Array.isArray(v)) return v.map(x => toJson(x, depth + 1));
  // long.js Long
  if (typeof v.low === 'number' && typeof v.high === 'number' && typeof v.toString === 'function' &&
      typeof v.unsigned === 'boolean') {
    return v.toString();
  }
  // protobuf message decoded by sofa-bolt-node (it attaches a non-enumerable toObject)
  if (typeof v.toObject === 'function') {
    return toJson(v.toObject({ longs: String, enums: String, bytes: String, defaults: true }), depth + 1);
  }
  const o = {};
  for (const k of Object.keys(v)) o[k] = toJson(v[k], depth + 1);
  return o;
}

// ---------------------------------------------------------------------------------------------
// Fields read straight from the fixed header by THIS script (sofa-bolt-node's decoder does not
// expose them): rpc type byte (oneway), cmdcode, response status, lengths, header map (parsed with
// sofa-bolt-node's own SimpleMapSerializer). Reported under "wire", never used to decide "ok".

function wireInfo(buf) {
  try {
    const w = { proto: buf[0] };
    let o;
    if (buf[0] === 2) {
      w.ver1 = buf[1];
      o = 2;
    } else {
      o = 1;
    }
    w.type = buf[o];
    w.cmdCode = buf.readUInt16BE(o + 1);
    w.ver2 = buf[o + 3];
    w.requestId = buf.readUInt32BE(o + 4);
    w.codec = buf[o + 8];
    o += 9;
    if (buf[0] === 2) w.switch = buf[o++];
    if (w.type === 0) {
      w.status = buf.readUInt16BE(o);
      o += 2;
    } else {
      w.timeout = buf.readInt32BE(o);
      o += 4;
    }
    w.classLen = buf.readUInt16BE(o);
    w.headerLen = buf.readUInt16BE(o + 2);
    w.contentLen = buf.readUInt32BE(o + 4);
    o += 8;
    w.fixedHeaderLen = o;
    w.className = buf.slice(o, o + w.classLen).toString();
    const hdr = buf.slice(o + w.classLen, o + w.classLen + w.headerLen);
    w.headerMap = hdr.length ? SimpleMapSerializer.decode(hdr) : {};
    w.oneway = w.type === 2;
    return w;
  } catch (e) {
    return { error: 'wire parse failed: ' + e.message };
  }
}

// ---------------------------------------------------------------------------------------------
// decode

const PACKET_EVENTS = [ 'request', 'response', 'heartbeat', 'heartbeat_ack' ];

function decodeOne(buf, ctx) {
  return new Promise(resolve => {
    const packets = [];
    let done = false;
    const decoder = bolt.decoder({ proto: ctx.proto, sentReqs: ctx.sentReqs, classCache: new Map() });
    for (const ev of PACKET_EVENTS) decoder.on(ev, p => packets.push(p));
    const finish = err => {
      if (done) return;
      done = true;
      resolve({ err, packets, leftover: decoder._buf ? decoder._buf.length : 0 });
    };
    decoder.on('error', err => finish(err));
    decoder.on('finish', () => finish(null));
    decoder.end(buf);
  });
}

function describePacket(p, buf) {
  const opts = p.options || {};
  const out = {
    ok: true,
    packetId: p.packetId,
    packetType: p.packetType,
    timeout: opts.timeout === undefined ? null : opts.timeout,
    codecType: opts.codecType === undefined ? null : opts.codecType,
    className: p.className === undefined ? null : p.className,
  };
  const data = p.data || {};
  if (p.packetType === 'request') {
    out.serverSignature = data.serverSignature === undefined ? null : data.serverSignature;
    out.methodName = data.methodName === undefined ? null : data.methodName;
    out.targetAppName = data.targetAppName === undefined ? null : data.targetAppName;
    out.methodArgSigs = data.methodArgSigs === undefined ? null : toJson(data.methodArgSigs);
    out.args = toJson(data.args || []);
    out.requestProps = data.requestProps === undefined ? null : toJson(data.requestProps);
  }
  const wire = wireInfo(buf);
  if (p.packetType === 'response') {
    // sofa-bolt-node does not return the status field; it is read from the frame (see "wire").
    out.status = wire.status === undefined ? null : wire.status;
    out.isError = !!data.error;
    out.errorMsg = data.error ? String(data.error.message) : null;
    out.appResponse = toJson(data.appResponse);
    out.responseProps = data.responseProps === undefined ? null : toJson(data.responseProps);
  }
  out.meta = {
    protocolType: opts.protocolType === undefined ? null : opts.protocolType,
    boltVersion: opts.boltVersion === undefined ? null : opts.boltVersion,
    crcEnable: opts.crcEnable === undefined ? null : opts.crcEnable,
    size: p.meta && p.meta.size,
  };
  out.wire = wire;
  return out;
}

async function cmdDecode(input, args) {
  if (!Array.isArray(input)) throw new Error('decode expects a JSON array');
  const proto = loadProto(args.proto);
  // packetId -> { req: { serverSignature, methodName } } for protobuf responses
  const known = new Map();
  const results = [];
  for (const item of input) {
    let hex,
      service,
      method;
    if (typeof item === 'string') {
      hex = item;
    } else if (item && typeof item.hex === 'string') {
      hex = item.hex;
      service = item.service;
      method = item.method;
    } else {
      results.push({ ok: false, error: 'item is neither a hex string nor {"hex":...}' });
      continue;
    }
    hex = hex.replace(/\s+/g, '');
    if (!/^([0-9a-fA-F]{2})*$/.test(hex) || hex.length === 0) {
      results.push({ ok: false, error: 'invalid hex' });
      continue;
    }
    const buf = Buffer.from(hex, 'hex');
    const sentReqs = {
      get(id) {
        if (service || method) {
          return { req: { serverSignature: service || DEFAULT_PB_SERVICE, methodName: method || DEFAULT_PB_METHOD } };
        }
        return known.get(id) || { req: { serverSignature: DEFAULT_PB_SERVICE, methodName: DEFAULT_PB_METHOD } };
      },
    };
    let r;
    try {
      r = await decodeOne(buf, { proto, sentReqs });
    } catch (e) {
      r = { err: e, packets: [], leftover: 0 };
    }
    if (r.err) {
      results.push({ ok: false, error: String(r.err.message || r.err), errorName: r.err.name || null });
      continue;
    }
    if (r.packets.length === 0) {
      results.push({ ok: false, error: 'decoder emitted no packet (incomplete frame: ' + buf.length + ' bytes buffered)' });
      continue;
    }
    if (r.packets.length > 1 || r.leftover) {
      results.push({
        ok: false,
        error: 'input is not exactly one frame: decoder emitted ' + r.packets.length + ' packet(s), ' + r.leftover + ' byte(s) left over',
        first: describePacket(r.packets[0], buf),
      });
      continue;
    }
    const p = r.packets[0];
    if (p.packetType === 'request' && p.data) {
      known.set(p.packetId, { req: { serverSignature: p.data.serverSignature, methodName: p.data.methodName } });
    }
    try {
      results.push(describePacket(p, buf));
    } catch (e) {
      results.push({ ok: false, error: 'result conversion failed: ' + e.message });
    }
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// encode

function encodeOptions(c) {
  if (c.options) return Object.assign({}, c.options);
  const codecType = c.codec || c.codecType || 'hessian2';
  let protocolType = c.protocolType;
  if (!protocolType) {
    if (c.proto !== undefined) protocolType = Number(c.proto) === 2 ? 'bolt2' : 'bolt';
    else protocolType = Number(c.boltVersion) === 2 ? 'bolt2' : 'bolt';
  }
  let ver1 = c.ver1 !== undefined ? c.ver1 : c.boltVersion;
  if (ver1 === undefined) ver1 = protocolType === 'bolt2' ? 2 : 1;
  return { protocolType, codecType, boltVersion: Number(ver1), crcEnable: !!c.crc };
}

// {"error_name"/"name", "message", "stack"} or {"$error": {...}} -> Error, as the vectors' producer did
function toError(o) {
  const e = o.$error && typeof o.$error === 'object' ? o.$error : o;
  const err = new Error(e.message || '');
  err.name = e.error_name || e.name || 'Error';
  if (e.stack !== undefined) err.stack = e.stack;
  return err;
}

function isErrorSpec(v) {
  return v && typeof v === 'object' && !Array.isArray(v) &&
    (v.$error !== undefined || (v.error_name !== undefined && v.message !== undefined));
}

function encodeCase(c, proto) {
  const id = c.id !== undefined ? c.id : c.request_id;
  const opts = encodeOptions(c);
  if (opts.codecType === 'protobuf') opts.proto = proto;
  const kind = c.kind;
  let buf;
  if (kind === 'request') {
    const req = c.req ? Object.assign({}, c.req) : {
      serverSignature: c.service,
      methodName: c.method,
      timeout: c.timeout === undefined ? 3000 : c.timeout,
      args: c.args || [],
    };
    if (!c.req) {
      if (c.targetAppName !== undefined) req.targetAppName = c.targetAppName;
      if (c.requestProps !== undefined) req.requestProps = c.requestProps;
      if (c.oneway) req.oneway = true;
    }
    buf = protocol.requestEncode(id, req, opts);
  } else if (kind === 'response') {
    const res = c.res ? Object.assign({}, c.res) : {};
    if (!c.res) {
      for (const k of [ 'status', 'isError', 'errorMsg', 'appResponse', 'responseProps' ]) {
        if (c[k] !== undefined) res[k] = c[k];
      }
      if (c.service || c.method) {
        res.appRequest = { serverSignature: c.service || DEFAULT_PB_SERVICE, methodName: c.method || DEFAULT_PB_METHOD };
      }
    }
    if (isErrorSpec(res.appResponse)) res.appResponse = toError(res.appResponse);
    // For a failing response without an Error object, sofa-bolt-node builds `new Error(msg)` itself
    // and serializes its JS stack (file paths of this machine) into the RpcServerException body.
    // Hand it the same Error with a frame-less stack instead so the bytes are deterministic.
    const isError = res.isError != null ? res.isError : !!res.errorMsg;
    if ((res.status || isError) && !(res.appResponse instanceof Error) && !c.nativeStack) {
      const msg = res.errorMsg || ERROR_MESSAGES[res.status || 2] ||
        'Exception caught in invocation. responseStatus: ' + (res.status || 2);
      const err = new Error(msg);
      err.stack = 'Error: ' + msg;
      res.appResponse = err;
    }
    if (opts.codecType === 'protobuf' && !res.appRequest) {
      res.appRequest = { serverSignature: DEFAULT_PB_SERVICE, methodName: DEFAULT_PB_METHOD };
    }
    buf = protocol.responseEncode(id, res, opts);
  } else if (kind === 'heartbeat') {
    const hb = c.hb ? Object.assign({}, c.hb) : {};
    if (!c.hb && c.timeout !== undefined) hb.timeout = c.timeout;
    buf = protocol.heartbeatEncode(id, hb, opts);
  } else if (kind === 'heartbeat_ack') {
    buf = protocol.heartbeatAckEncode(id, opts);
  } else {
    throw new Error('unknown kind: ' + kind + ' (sofa-bolt-node only encodes request, response, heartbeat, heartbeat_ack)');
  }
  // sofa-bolt-node returns a view into a shared buffer: copy it out at once
  return Buffer.from(buf).toString('hex');
}

function cmdEncode(input, args) {
  if (!Array.isArray(input)) throw new Error('encode expects a JSON array');
  const proto = loadProto(args.proto);
  return input.map(c => {
    try {
      return { hex: encodeCase(c, proto) };
    } catch (e) {
      return { error: String(e.message || e) };
    }
  });
}

// ---------------------------------------------------------------------------------------------

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(e.message + '\n');
    process.exit(2);
  }
  if (args.cmd !== 'decode' && args.cmd !== 'encode') {
    process.stderr.write('usage: node bolt-peer.js decode|encode [--proto FILE] < input.json\n');
    process.exit(2);
  }
  let input;
  try {
    input = JSON.parse(fs.readFileSync(0, 'utf8'));
  } catch (e) {
    process.stderr.write('invalid JSON on stdin: ' + e.message + '\n');
    process.exit(2);
  }
  const out = args.cmd === 'decode' ? await cmdDecode(input, args) : cmdEncode(input, args);
  process.stdout.write(JSON.stringify(out) + '\n');
}

if (require.main === module) {
  main().catch(e => {
    process.stderr.write((e && e.stack) || String(e));
    process.stderr.write('\n');
    process.exit(1);
  });
}

module.exports = { cmdDecode, cmdEncode };
