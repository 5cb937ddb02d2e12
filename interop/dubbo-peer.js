#!/usr/bin/env node
'use strict';

// Independent Dubbo (hessian2) peer for xprotocol's interop tests.
// Decoding/encoding is done by the real third-party libraries apache-dubbo-serialization 0.0.2
// (the codec of apache-dubbo-service / apache-dubbo-consumer), dubbo2.js 2.3.9 and hessian.js 2.11.0.
//
//   node interop/dubbo-peer.js decode   stdin: JSON array of frames -> stdout: JSON array
//   node interop/dubbo-peer.js encode   stdin: JSON array of cases  -> stdout: JSON array
//
// See README.md ("Dubbo") for the JSON shapes and the quirks of these libraries.

const fs = require('fs');
const { EventEmitter } = require('events');
const hessian = require('hessian.js');
const ser = require('apache-dubbo-serialization');
const ServiceContext = require('apache-dubbo-service/lib/context').default;
const Dubbo2jsEncoder = require('dubbo2.js/es7/encode').default;
const Dubbo2jsHeartBeat = require('dubbo2.js/es7/heartbeat').default;

const HEADER = 16;
const FLAG_REQUEST = 0x80;
const FLAG_TWOWAY = 0x40;
const FLAG_EVENT = 0x20;

// ---------------------------------------------------------------------------------------------
// JSON conversion of decoded hessian values

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
    for (const [ k, val ] of v) o[String(k)] = toJson(val, depth + 1);
    return o;
  }
  if (Array.isArray(v)) return v.map(x => toJson(x, depth + 1));
  if (typeof v.low === 'number' && typeof v.high === 'number' && typeof v.unsigned === 'boolean') return v.toString();
  const o = {};
  for (const k of Object.keys(v)) o[k] = toJson(v[k], depth + 1);
  return o;
}

// JS type of each map value as hessian.js hands it over ("number" for hessian int/long/double,
// "string", "boolean", "null", "object", "array").
function typesOf(map) {
  if (!map || typeof map !== 'object') return null;
  const t = {};
  for (const k of Object.keys(map)) {
    const v = map[k];
    t[k] = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
  }
  return t;
}

function sameJson(a, b) {
  return JSON.stringify(toJson(a)) === JSON.stringify(toJson(b));
}

// A request id is an unsigned 64-bit long: a number when it is exact in JS, else a decimal string.
function readId(buf) {
  const id = buf.readBigUInt64BE(4);
  return id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : id.toString();
}

// ---------------------------------------------------------------------------------------------
// decode

// Split the input into frames with the libraries' own framer (DecodeBuffer, as used by the
// provider's and the consumer's sockets). Resolves { frames, leftover }.
function frameWithDecodeBuffer(buf) {
  return new Promise(resolve => {
    const transport = new EventEmitter();
    const frames = [];
    const db = ser.DecodeBuffer.from(transport, 'dubbo-peer').subscribe(f => frames.push(f));
    process.nextTick(() => {
      transport.emit('data', buf);
      resolve({ frames, leftover: db.buffer.length });
    });
  });
}

// Parameter type descriptor -> one entry per argument (JVM descriptor grammar).
function splitDesc(desc) {
  return desc.match(/\[*(?:[VZBCDFIJS]|L[^;]+;)/g) || [];
}

function describeRequest(frame, out) {
  // (1) hessian.js read of the body, field by field, in Dubbo's order.
  const d = new hessian.DecoderV2(frame.slice(HEADER));
  out.dubboVersion = d.read();
  out.path = d.read();
  out.version = d.read();
  out.methodName = d.read();
  out.parameterTypes = d.read();
  const types = typeof out.parameterTypes === 'string' ? splitDesc(out.parameterTypes) : [];
  const args = [];
  for (let i = 0; i < types.length; i++) args.push(d.read());
  const attachments = d.read();
  out.args = toJson(args);
  out.attachments = toJson(attachments);
  out.attachmentTypes = typesOf(attachments);
  // (2) what apache-dubbo-service itself sees (decodeDubboRequest): the provider counts
  // arguments by splitting the descriptor on ';', so consecutive primitives ("IJZ") collapse.
  try {
    const r = ser.decodeDubboRequest(frame);
    out.provider = {
      ok: true,
      methodName: r.methodName,
      argsCount: (r.args || []).length,
      attachment: toJson(r.attachment), // body path/version + merged attachments, as routed on
      sameAsHessianRead: sameJson(r.args || [], args) && r.methodName === out.methodName,
    };
  } catch (e) {
    out.provider = { ok: false, error: String(e.message || e) };
  }
}

function describeResponse(frame, out) {
  const d = new hessian.DecoderV2(frame.slice(HEADER));
  out.responseFlag = null;
  out.value = null;
  out.exception = null;
  out.errorMessage = null;
  out.attachments = null;
  if (out.status === 20) {
    const flag = d.readInt();
    out.responseFlag = flag;
    if (flag === 1 || flag === 4) out.value = toJson(d.read());
    else if (flag === 0 || flag === 3) out.exception = toJson(d.read());
    else if (flag !== 2 && flag !== 5) throw new Error('unknown response body flag ' + flag);
    if (flag >= 3) out.attachments = toJson(d.read());
  } else {
    out.errorMessage = toJson(d.read());
    // apache-dubbo-serialization appends the attachments map after the error string.
    if (d.byteBuffer.position() < d.byteBuffer.limit()) out.attachments = toJson(d.read());
  }
  out.attachmentTypes = typesOf(out.attachments);
  // What apache-dubbo-consumer itself makes of it (decodeDubboResponse).
  const r = ser.decodeDubboResponse(frame);
  out.consumer = {
    requestId: r.requestId,
    value: toJson(r.res),
    error: r.err ? String(r.err.message) : null,
    errorName: r.err ? r.err.name : null,
    attachments: toJson(r.attachments),
  };
}

async function decodeHex(hex) {
  hex = hex.replace(/\s+/g, '');
  if (!hex.length || !/^([0-9a-fA-F]{2})*$/.test(hex)) return { ok: false, error: 'invalid hex' };
  const buf = Buffer.from(hex, 'hex');
  const { frames, leftover } = await frameWithDecodeBuffer(buf);
  if (frames.length !== 1 || leftover) {
    return { ok: false, error: `input is not exactly one frame: DecodeBuffer emitted ${frames.length} frame(s), ${leftover} byte(s) left over` };
  }
  const frame = frames[0];
  if (frame.length !== buf.length) {
    return { ok: false, error: `${buf.length - frame.length} byte(s) before the magic were skipped by DecodeBuffer` };
  }
  const flag = frame[2];
  const out = {
    ok: true,
    id: readId(frame),
    isRequest: (flag & FLAG_REQUEST) !== 0,
    twoWay: (flag & FLAG_TWOWAY) !== 0,
    event: (flag & FLAG_EVENT) !== 0,
    serialization: flag & 0x1f,
    status: frame[3],
    bodyLength: frame.readUInt32BE(12),
  };
  if (out.serialization !== 2) return { ok: false, error: 'unsupported serialization id ' + out.serialization, header: out };
  if (out.event) {
    // HeartBeat.isHeartBeat: event bit + hessian null body. Any other event body (e.g. "R",
    // readonly) is NOT a heartbeat to these libraries and goes down the request/response path.
    out.heartbeat = ser.HeartBeat.isHeartBeat(frame);
    out.eventData = toJson(new hessian.DecoderV2(frame.slice(HEADER)).read());
    return out;
  }
  if (out.isRequest) describeRequest(frame, out);
  else describeResponse(frame, out);
  return out;
}

async function cmdDecode(input) {
  if (!Array.isArray(input)) throw new Error('decode expects a JSON array');
  const results = [];
  for (const item of input) {
    const hex = typeof item === 'string' ? item : item && item.hex;
    if (typeof hex !== 'string') {
      results.push({ ok: false, error: 'item is neither a hex string nor {"hex":...}' });
      continue;
    }
    try {
      results.push(await decodeHex(hex));
    } catch (e) {
      results.push({ ok: false, error: String(e.message || e), errorName: e.name || null });
    }
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// encode

// Plain JSON values become java types the way a JS caller would wrap them with js-to-java.
function javaArg(a) {
  if (a && typeof a === 'object' && a.$class !== undefined) return a;
  if (typeof a === 'string') return { $class: 'java.lang.String', $: a };
  if (typeof a === 'boolean') return { $class: 'boolean', $: a };
  if (typeof a === 'number') return { $class: Number.isInteger(a) ? 'int' : 'double', $: a };
  throw new Error('argument needs js-to-java notation {"$class":..,"$":..}: ' + JSON.stringify(a));
}

function writeId(buf, id) {
  if (id === undefined || id === null) return buf;
  buf.writeBigUInt64BE(BigInt(id), 4);
  return buf;
}

function encodeRequest(c) {
  const ctx = {
    requestId: c.id !== undefined ? c.id : c.requestId,
    dubboVersion: c.dubboVersion || '2.0.2',
    dubboInterface: c.interface || c.dubboInterface || c.path,
    path: c.path,
    version: c.version === undefined ? '1.0.0' : c.version,
    methodName: c.method || c.methodName,
    methodArgs: (c.args || c.methodArgs || []).map(javaArg),
    group: c.group || '',
    timeout: c.timeout || 0,
    application: c.application || { name: '' },
    attachments: c.attachments || {},
    isSupportedDubbox: !!c.isSupportedDubbox,
  };
  const exactId = ctx.requestId;
  ctx.requestId = safeId(exactId);
  const Encoder = c.encoder === 'dubbo2.js' ? Dubbo2jsEncoder : ser.DubboRequestEncoder;
  const saved = Encoder.getParameterTypes;
  // An explicit descriptor replaces the one the encoder derives from the args' $class.
  if (typeof c.parameterTypes === 'string') Encoder.getParameterTypes = () => c.parameterTypes;
  let buf;
  try {
    buf = new Encoder(ctx).encode();
  } finally {
    Encoder.getParameterTypes = saved;
  }
  // Both encoders always set TWOWAY; a oneway request clears that bit afterwards.
  if (c.twoWay === false) buf[2] &= ~FLAG_TWOWAY;
  return unsafeId(buf, exactId);
}

function encodeResponse(c) {
  const id = c.id !== undefined ? c.id : c.request_id;
  const ctx = new ServiceContext({ requestId: safeId(id), version: c.dubboVersion || c.request_dubbo_version || '2.0.2' });
  ctx.status = c.status === undefined ? 20 : c.status;
  ctx.body.res = c.value !== undefined ? c.value : (c.res !== undefined ? c.res : null);
  const msg = c.exception || c.errorMessage || c.err_message;
  if (msg) ctx.body.err = new Error(msg);
  else if (ctx.status !== 20) ctx.body.err = new Error('');
  if (c.attachments) ctx.attachments = c.attachments;
  return unsafeId(new ser.DubboResponseEncoder(ctx).encode(), id);
}

// The encoders take the id as a JS number (exact only up to 2^53); a larger id, given as a
// decimal string, is written into the header afterwards.
function safeId(id) {
  return Number.isSafeInteger(Number(id)) ? Number(id) : 0;
}
function unsafeId(buf, id) {
  return Number.isSafeInteger(Number(id)) ? buf : writeId(buf, id);
}

function encodeCase(c) {
  let buf;
  if (c.kind === 'request') buf = encodeRequest(c);
  else if (c.kind === 'response') buf = encodeResponse(c);
  else if (c.kind === 'heartbeat') {
    // dubbo2.js and apache-dubbo-serialization both write id 0; a given id is patched in.
    buf = c.encoder === 'dubbo2.js' ? Dubbo2jsHeartBeat.encode() : ser.HeartBeat.prototype.encode.call({ type: 'request' });
    buf = writeId(Buffer.from(buf), c.id);
  } else if (c.kind === 'heartbeat_response') {
    buf = writeId(Buffer.from(ser.HeartBeat.prototype.encode.call({ type: 'response' })), c.id);
  } else {
    throw new Error('unknown kind: ' + c.kind + ' (request, response, heartbeat, heartbeat_response)');
  }
  return Buffer.from(buf).toString('hex');
}

function cmdEncode(input) {
  if (!Array.isArray(input)) throw new Error('encode expects a JSON array');
  return input.map(c => {
    try {
      return { hex: encodeCase(c) };
    } catch (e) {
      return { error: String(e.message || e) };
    }
  });
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const cmd = process.argv[2];
  if ((cmd !== 'decode' && cmd !== 'encode') || process.argv.length > 3) {
    process.stderr.write('usage: node dubbo-peer.js decode|encode < input.json\n');
    process.exit(2);
  }
  let input;
  try {
    input = JSON.parse(fs.readFileSync(0, 'utf8'));
  } catch (e) {
    process.stderr.write('invalid JSON on stdin: ' + e.message + '\n');
    process.exit(2);
  }
  const out = cmd === 'decode' ? await cmdDecode(input) : cmdEncode(input);
  process.stdout.write(JSON.stringify(out) + '\n');
}

if (require.main === module) {
  main().catch(e => {
    process.stderr.write(((e && e.stack) || String(e)) + '\n');
    process.exit(1);
  });
}

module.exports = { cmdDecode, cmdEncode };
