#!/usr/bin/env node
'use strict';

// Checks dubbo-peer.js against the real-peer Dubbo vectors (shared/vectors/dubbo-*.json):
//  (a) every frame_hex decodes ok, and the facts in `expect` agree (id, kind, flags, status,
//      method, path, version, parameter types, attachments, response flag, value, messages);
//  (b) re-encoding the vector's `inputs` with the same library reproduces frame_hex (reported).
// Usage: node interop/dubbo-check-vectors.js [VECTOR_DIR]  (default: shared/vectors beside the repo)
// Exits 1 on any decode failure; re-encode mismatches are reported but only fail with --strict.

const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const argv = process.argv.slice(2);
const strict = argv.includes('--strict');
const dirArg = argv.find(a => !a.startsWith('--'));
const dir = dirArg || process.env.XPROTOCOL_VECTORS ||
  [ path.join(__dirname, '..', 'shared', 'vectors'), path.join(__dirname, '..', '..', 'shared', 'vectors') ]
    .find(d => fs.existsSync(d));
if (!dir || !fs.existsSync(dir)) {
  console.error('vector directory not found; pass it as the first argument');
  process.exit(2);
}
const files = fs.readdirSync(dir).filter(f => /^dubbo-.*\.json$/.test(f)).sort();
const vectors = files.map(f => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
if (!vectors.length) {
  console.error('no dubbo-*.json vectors in ' + dir);
  process.exit(2);
}

const peer = path.join(__dirname, 'dubbo-peer.js');
function run(cmd, input) {
  return JSON.parse(execFileSync(process.execPath, [ peer, cmd ], { input: JSON.stringify(input) }).toString());
}

function kindOf(d) {
  if (d.event) return d.isRequest ? 'heartbeat_request' : 'heartbeat_response';
  return d.isRequest ? 'request' : 'response';
}

function encodeCaseFor(v) {
  const inp = v.inputs || {};
  const e = v.expect;
  const encoder = v.producer.peer === 'dubbo2.js' ? 'dubbo2.js' : 'apache-dubbo-serialization';
  if (e.kind === 'heartbeat_request') return { kind: 'heartbeat', encoder };
  if (e.kind === 'heartbeat_response') return { kind: 'heartbeat_response' };
  if (e.kind === 'request') {
    return {
      kind: 'request', encoder, id: inp.requestId, dubboVersion: inp.dubboVersion, interface: inp.dubboInterface,
      path: inp.path, version: inp.version, method: inp.methodName, args: inp.methodArgs, group: inp.group,
      timeout: inp.timeout, application: inp.application, attachments: inp.attachments,
    };
  }
  return {
    kind: 'response', id: inp.request_id, dubboVersion: inp.request_dubbo_version, status: inp.status,
    value: inp.res, exception: inp.status === 20 ? inp.err_message : undefined,
    errorMessage: inp.status !== 20 ? inp.err_message : undefined, attachments: inp.attachments,
  };
}

function check(v, d) {
  const e = v.expect || {};
  const p = [];
  const eq = (name, got, want) => {
    if (want !== undefined && JSON.stringify(got) !== JSON.stringify(want)) {
      p.push(`${name} ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
    }
  };
  if (!d.ok) return [ 'decode error: ' + d.error ];
  eq('kind', kindOf(d), e.kind);
  eq('twoway', d.twoWay, e.twoway);
  eq('event', d.event, e.event);
  eq('request_id', d.id, e.request_id);
  eq('serialization_id', d.serialization, e.serialization_id);
  eq('status', d.status, e.status);
  eq('body_length', d.bodyLength, e.body_length);
  if (d.isRequest && !d.event) {
    const a = d.attachments || {};
    eq('dubbo_version', d.dubboVersion, e.dubbo_version);
    eq('body_path', d.path, e.body_path);
    eq('body_version', d.version, e.body_version);
    eq('service', a.path || d.path, e.service);
    eq('interface', a.interface, e.interface);
    eq('version', a.version || d.version, e.version);
    eq('method', d.methodName, e.method);
    eq('group', a.group === undefined ? null : a.group, e.group);
    eq('parameter_types', d.parameterTypes, e.parameter_types);
    if (e.attachments) eq('attachments', sortKeys(a), sortKeys(e.attachments));
  }
  if (!d.isRequest && !d.event) {
    eq('response_flag', d.responseFlag, e.response_flag);
    eq('value', d.value, e.value);
    eq('error_message', d.errorMessage, e.error_message);
    eq('exception_message', d.exception, e.exception_message);
    if (e.attachments !== undefined) eq('attachments', sortKeys(d.attachments), sortKeys(e.attachments));
  }
  return p;
}

function sortKeys(o) {
  if (!o) return o;
  const r = {};
  for (const k of Object.keys(o).sort()) r[k] = o[k];
  return r;
}

const decoded = run('decode', vectors.map(v => v.frame_hex));
const encoded = run('encode', vectors.map(encodeCaseFor));

let decOk = 0,
  encOk = 0;
const failures = [];
vectors.forEach((v, i) => {
  const problems = check(v, decoded[i]);
  if (!problems.length) decOk++;
  else failures.push(`${v.id}: DECODE ${problems.join('; ')}`);
  const enc = encoded[i];
  const same = enc.hex === v.frame_hex;
  if (same) encOk++;
  else failures.push(`${v.id}: ENCODE ${enc.error ? 'error: ' + enc.error : 'bytes differ'}`);
  console.log(`${problems.length ? 'FAIL' : 'ok  '} decode  ${same ? 'ok  ' : 'DIFF'} re-encode  ${v.id}`);
});

for (const f of failures) console.error(f);
console.log(`decode ${decOk}/${vectors.length} ok, re-encode ${encOk}/${vectors.length} byte-identical`);
const failed = (vectors.length - decOk) + (strict ? vectors.length - encOk : 0);
console.log(`${vectors.length + (strict ? vectors.length : 0) - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
