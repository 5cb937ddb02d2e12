#!/usr/bin/env node
'use strict';

// Records how the real apache-dubbo-service provider and apache-dubbo-consumer behave on the wire
// (the "Observed quirks" in README.md). Loopback only; every probe is bounded in time.
//   node interop/dubbo-probe.js [BASE_PORT] [--slow]
// BASE_PORT (default 21880) .. BASE_PORT+5 are used. --slow also watches idle connections for
// 66 s (heartbeats of the node consumer, the node provider and the dubbo-py provider).
// Prints one JSON object per probe.

const fs = require('fs');
const net = require('net');
const path = require('path');
const { spawn } = require('child_process');
const hessian = require('hessian.js');
const { cmdDecode, cmdEncode } = require('./dubbo-peer');

const args = process.argv.slice(2);
const slow = args.includes('--slow');
const base = Number(args.find(a => !a.startsWith('--')) || 21880);
const SVC = 'com.example.acceptance.DemoService';
const sleep = ms => new Promise(r => setTimeout(r, ms));

function encoded(cases) {
  return cmdEncode(cases).map(r => {
    if (r.error) throw new Error(r.error);
    return Buffer.from(r.hex, 'hex');
  });
}
const req = (id, extra = {}) => Object.assign({ kind: 'request', id, path: SVC, version: '1.0.0', method: 'echo', args: [ 'hi' ] }, extra);

function hessianBytes(v) {
  const e = new hessian.EncoderV2();
  e.write(v);
  return e.get();
}

// Hand-built frame: header + body parts (a Buffer is raw bytes, anything else is written by hessian.js).
function frame(flag, status, id, bodyParts) {
  const body = Buffer.concat(bodyParts.map(p => (Buffer.isBuffer(p) ? p : hessianBytes(p))));
  const h = Buffer.alloc(16);
  h.writeUInt16BE(0xdabb, 0);
  h[2] = flag;
  h[3] = status;
  h.writeBigUInt64BE(BigInt(id), 4);
  h.writeUInt32BE(body.length, 12);
  return Buffer.concat([ h, body ]);
}

function split(buf) {
  const out = [];
  while (buf.length >= 16 && buf.length >= 16 + buf.readUInt32BE(12)) {
    const n = 16 + buf.readUInt32BE(12);
    out.push(buf.slice(0, n).toString('hex'));
    buf = buf.slice(n);
  }
  return out;
}

function brief(d) {
  if (!d.ok) return d;
  const flag = (d.isRequest ? 0x80 : 0) | (d.twoWay ? 0x40 : 0) | (d.event ? 0x20 : 0) | d.serialization;
  const o = { id: d.id, flag: '0x' + flag.toString(16), status: d.status };
  for (const k of [ 'eventData', 'responseFlag', 'value', 'exception', 'errorMessage', 'attachments', 'methodName', 'args' ]) {
    if (d[k] !== undefined && d[k] !== null) o[k] = typeof d[k] === 'string' && d[k].length > 80 ? `<${d[k].length} chars>` : d[k];
  }
  return o;
}

// Send frames on one connection, collect what comes back for `ms`.
function exchange(port, bufs, ms = 600) {
  return new Promise(resolve => {
    let data = Buffer.alloc(0);
    let closed = false;
    const s = net.connect(port, '127.0.0.1', () => s.write(Buffer.concat(bufs)));
    s.on('data', d => { data = Buffer.concat([ data, d ]); });
    s.on('error', () => {});
    s.on('close', () => { closed = true; });
    setTimeout(async () => {
      s.destroy();
      resolve({ closedByPeer: closed, replies: (await cmdDecode(split(data))).map(brief) });
    }, ms);
  });
}

function startProvider(port) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [ path.join(__dirname, 'dubbo-provider.js'), String(port) ], { stdio: [ 'ignore', 'pipe', 'pipe' ] });
    p.stderrText = '';
    p.stderr.on('data', d => { p.stderrText += d; });
    p.stdout.on('data', d => { if (/READY/.test(d)) resolve(p); });
    p.on('exit', code => reject(new Error('provider exited ' + code)));
  });
}

function runConsumer(port, calls, timeout = 1500) {
  return new Promise(resolve => {
    const c = spawn(process.execPath, [ path.join(__dirname, 'dubbo-consumer.js'), String(port), '--timeout', String(timeout) ]);
    let out = '';
    c.stdout.on('data', d => { out += d; });
    c.on('exit', () => resolve(JSON.parse(out || 'null')));
    c.stdin.end(JSON.stringify(calls));
  });
}

// A scripted fake provider: records every frame the consumer sends; reply(frame) -> [Buffer].
function fakeProvider(port, reply) {
  const seen = [];
  const server = net.createServer(sock => {
    let buf = Buffer.alloc(0);
    sock.on('data', d => {
      buf = Buffer.concat([ buf, d ]);
      for (const hex of split(buf)) {
        buf = buf.slice(hex.length / 2);
        seen.push(hex);
        for (const r of reply(Buffer.from(hex, 'hex')) || []) sock.write(r);
      }
    });
    sock.on('error', () => {});
  });
  return new Promise(resolve => server.listen(port, '127.0.0.1', () => resolve({ server, seen })));
}

const show = (name, v) => process.stdout.write(JSON.stringify({ probe: name, result: v }) + '\n');

async function providerProbes() {
  const port = base;
  const p = await startProvider(port);
  show('provider: heartbeat request id 7 (0xe2, body N)', await exchange(port, [ frame(0xe2, 0, 7, [ null ]) ]));
  show('provider: oneway request (twoWay bit cleared)', await exchange(port, encoded([ req(8, { twoWay: false }) ])));
  show('provider: 3 pipelined requests in one write', await exchange(port, encoded([ req(1), req(2, { method: 'sayHello' }), req(3, { method: 'fail' }) ])));
  show('provider: request id 2^53+1', await exchange(port, encoded([ req('9007199254740993') ])));
  show('provider: dubbo version 2.0.0 request', await exchange(port, encoded([ req(9, { dubboVersion: '2.0.0' }) ])));
  show('provider: request with status byte 20', await exchange(port, [ (b => { b[3] = 20; return b; })(encoded([ req(10) ])[0]) ]));
  // Attachments as a typed 'M' map ("M" type k v ... "Z") instead of hessian.js's untyped 'H'.
  const typedMap = Buffer.concat([ Buffer.from('M'), hessianBytes('java.util.HashMap'),
    hessianBytes('path'), hessianBytes(SVC), hessianBytes('version'), hessianBytes('1.0.0'),
    hessianBytes('timeout'), hessianBytes(3000), Buffer.from('Z') ]);
  show("provider: attachments as typed 'M' map", await exchange(port, [ frame(0xc2, 0, 11, [ '2.0.2', SVC, '1.0.0', 'echo', 'Ljava/lang/String;', 'typed-map', typedMap ]) ]));
  show('provider: 64 KiB string arg (hessian.js writes it chunked)', await exchange(port, encoded([ req(12, { args: [ 'y'.repeat(65536) ] }) ]), 1000));
  show('provider: unknown version / missing method', await exchange(port, encoded([ req(13, { version: '9.9.9' }), req(14, { method: 'nope' }) ])));
  show('provider: echo("") and big(0)', await exchange(port, encoded([ req(15, { args: [ '' ] }), req(16, { method: 'big', args: [ 0 ] }) ])));
  // Last: a frame that kills the provider process.
  show('provider: event "R" (readonly) request 0xe2', await exchange(port, [ frame(0xe2, 0, 17, [ 'R' ]) ]));
  await sleep(300);
  show('provider: still alive after "R"?', await exchange(port, encoded([ req(18) ])).then(r =>
    Object.assign(r, { stderr: p.stderrText.split('\n').filter(l => /Error/.test(l)).slice(0, 1) })));
  p.kill('SIGTERM');
}

async function consumerProbes() {
  // ids, flags, attachments the consumer writes (recorded by a fake provider that answers OK).
  let fake = await fakeProvider(base + 1, f => [ frame(0x02, 20, f.readBigUInt64BE(4), [ 4, 'ok', { $class: 'java.util.HashMap', $: { dubbo: '2.0.2' } } ]) ]);
  const r1 = await runConsumer(base + 1, [ { method: 'echo', args: [ 'a' ], attachments: { n: 1, s: 'x' } }, { method: 'echo', args: [ 'b' ] } ]);
  show('consumer: frames it sends (ids, flags, attachments)', {
    results: r1,
    sent: (await cmdDecode(fake.seen)).map(d => Object.assign(brief(d), { attachmentTypes: d.attachmentTypes })),
  });
  fake.server.close();

  // Replies with various status bytes / extra frames, chosen by request id (1..9).
  const scripts = [
    id => [ frame(0x02, 60, id, [ 'not found (java style, no attachments)' ]) ],
    id => [ frame(0x02, 30, id, [ 'client timeout' ]) ],
    id => [ frame(0x02, 70, id, [ 'service error' ]) ],
    id => [ frame(0x02, 20, id, [ 3, 'app exception string', { $class: 'java.util.HashMap', $: {} } ]) ],
    id => [ frame(0x42, 20, id, [ 1, 'twoway bit set on response' ]) ],
    id => [ frame(0x22, 0, 0, [ 'R' ]), frame(0x02, 20, id, [ 1, 'after R event' ]) ],
    id => [ frame(0xe2, 0, 99, [ null ]), frame(0x02, 20, id, [ 1, 'after heartbeat request' ]) ],
    id => [ frame(0x02, 20, id, [ 1, 'reply 1' ]), frame(0x02, 20, id, [ 1, 'duplicate reply' ]) ],
    () => [], // never answered -> timeout
  ];
  fake = await fakeProvider(base + 2, f => {
    if (f[2] & 0x20) return [];
    const id = f.readBigUInt64BE(4);
    return scripts[Number(id) - 1] ? scripts[Number(id) - 1](id) : [];
  });
  const r2 = await runConsumer(base + 2, scripts.map((_, i) => ({ method: 'echo', args: [ 'call' + (i + 1) ] })), 1500);
  show('consumer: replies 60, 30, 70, flag3, 0x42, R+ok, hb-req+ok, dup, none', {
    results: r2,
    eventFramesSentBack: (await cmdDecode(fake.seen)).filter(d => d.event).map(brief),
  });
  fake.server.close();
}

async function heartbeatProbe() {
  // Idle connections watched at once for 66 s: node consumer -> fake provider, raw socket ->
  // node provider, raw socket -> dubbo-py provider (when interop/.venv exists).
  const fake = await fakeProvider(base + 3, () => []);
  const nodeProv = await startProvider(base + 4);
  const venvPy = path.join(__dirname, '.venv', 'bin', 'python');
  let pyProv = null;
  if (fs.existsSync(venvPy)) {
    pyProv = spawn(venvPy, [ path.join(__dirname, 'dubbo-py-peer.py'), 'provider', String(base + 5) ], { stdio: 'ignore' });
    await sleep(1000);
  }
  const [ , fromNodeProv, fromPyProv ] = await Promise.all([
    runConsumer(base + 3, [ { method: 'echo', args: [ 'x' ] } ], 66000),
    exchange(base + 4, [], 66000),
    pyProv ? exchange(base + 5, [], 66000) : null,
  ]);
  show('consumer: frames sent in 66 s (one unanswered call)', (await cmdDecode(fake.seen)).map(brief));
  show('node provider: frames sent to an idle connection in 66 s', fromNodeProv);
  if (pyProv) show('dubbo-py provider: frames sent to an idle connection in 66 s', fromPyProv);
  fake.server.close();
  nodeProv.kill('SIGTERM');
  if (pyProv) pyProv.kill('SIGTERM');
}

(async () => {
  await providerProbes();
  await consumerProbes();
  if (slow) await heartbeatProbe();
  process.exit(0);
})().catch(e => {
  process.stderr.write(e.stack + '\n');
  process.exit(1);
});
