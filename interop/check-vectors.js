#!/usr/bin/env node
'use strict';

// Checks bolt-peer.js against the real sofa-bolt-node 2.0.1 vectors:
//  (a) every vector frame decodes ok (and packetId / packetType / status agree with `expect`);
//  (b) re-encoding the vector's `inputs` reproduces `frame_hex` byte for byte.
// Usage: node interop/check-vectors.js [VECTOR_DIR]   (default: ../../shared/vectors, i.e. /work/shared/vectors)
// Exits non-zero on any failure. Runs bolt-peer.js as a child process, exactly as the Rust tests do.

const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const dir = process.argv[2] || process.env.XPROTOCOL_VECTORS ||
  [ path.join(__dirname, '..', 'shared', 'vectors'), path.join(__dirname, '..', '..', 'shared', 'vectors') ]
    .find(d => fs.existsSync(d));
if (!dir || !fs.existsSync(dir)) {
  console.error('vector directory not found; pass it as the first argument');
  process.exit(2);
}
const files = fs.readdirSync(dir).filter(f => /^bolt-.*\.json$/.test(f)).sort();
const vectors = files.map(f => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
if (!vectors.length) {
  console.error('no bolt-*.json vectors in ' + dir);
  process.exit(2);
}

const peer = path.join(__dirname, 'bolt-peer.js');
function run(cmd, input) {
  return JSON.parse(execFileSync(process.execPath, [ peer, cmd ], { input: JSON.stringify(input) }).toString());
}

const KIND = { request: 'request', response: 'response', heartbeat_request: 'heartbeat', heartbeat_response: 'heartbeat_ack' };

function encodeCaseFor(v) {
  const call = v.producer.call;
  const kind = /requestEncode/.test(call) ? 'request' :
    /responseEncode/.test(call) ? 'response' :
      /heartbeatAckEncode/.test(call) ? 'heartbeat_ack' : 'heartbeat';
  const c = { kind, id: v.inputs.request_id, options: v.inputs.encode_options };
  if (v.inputs.req) c.req = v.inputs.req;
  if (v.inputs.res) c.res = v.inputs.res;
  if (kind === 'heartbeat') c.hb = {};
  return c;
}

const decoded = run('decode', vectors.map(v => v.frame_hex));
const encoded = run('encode', vectors.map(encodeCaseFor));

let decOk = 0,
  encOk = 0;
const failures = [];
vectors.forEach((v, i) => {
  const d = decoded[i];
  const e = v.expect || {};
  const problems = [];
  if (!d.ok) problems.push('decode error: ' + d.error);
  else {
    if (e.request_id !== undefined && d.packetId !== e.request_id) problems.push(`packetId ${d.packetId} != ${e.request_id}`);
    if (e.kind && d.packetType !== KIND[e.kind]) problems.push(`packetType ${d.packetType} != ${KIND[e.kind]}`);
    if (e.status !== undefined && d.packetType === 'response' && d.status !== e.status) problems.push(`status ${d.status} != ${e.status}`);
    if (e.is_error !== undefined && d.packetType === 'response' && d.isError !== e.is_error) problems.push(`isError ${d.isError} != ${e.is_error}`);
    if (e.method && d.packetType === 'request' && d.methodName !== e.method) problems.push(`methodName ${d.methodName} != ${e.method}`);
    if (e.service && d.packetType === 'request' && d.serverSignature !== e.service) problems.push(`serverSignature ${d.serverSignature} != ${e.service}`);
    if (e.timeout_ms !== undefined && d.timeout !== e.timeout_ms) problems.push(`timeout ${d.timeout} != ${e.timeout_ms}`);
  }
  if (!problems.length) decOk++;
  else failures.push(`${v.id}: DECODE ${problems.join('; ')}`);

  const enc = encoded[i];
  if (enc.hex === v.frame_hex) encOk++;
  else failures.push(`${v.id}: ENCODE ${enc.error ? 'error: ' + enc.error : 'bytes differ (got ' + enc.hex.length / 2 + ' bytes, want ' + v.frame_hex.length / 2 + ')'}`);
  console.log(`${problems.length ? 'FAIL' : 'ok  '} decode  ${enc.hex === v.frame_hex ? 'ok  ' : 'FAIL'} re-encode  ${v.id}`);
});

for (const f of failures) console.error(f);
const total = vectors.length * 2;
const passed = decOk + encOk;
console.log(`decode ${decOk}/${vectors.length} ok, re-encode ${encOk}/${vectors.length} byte-identical`);
console.log(`${passed} passed, ${total - passed} failed`);
process.exit(failures.length ? 1 : 0);
