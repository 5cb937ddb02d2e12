#!/usr/bin/env node
'use strict';

// A real sofa-rpc-node 2.10.0 RpcClient (direct connect, no registry) running the sidecar scenario
// against com.example.EchoService:1.0 (see sofa-rpc-server.js).
//   node interop/sofa-rpc-client.js --target HOST:PORT [--name N] [--deadline MS] [--bolt2] [--verbose]
// --name     the server's --name, checked in every echo reply (default sofa-rpc-server)
// --deadline overall limit in ms (default 10000): connect + every call + the final stats call; on
//            expiry it prints {"ok":false,"error":"deadline ..."} and exits 1 whatever is pending
// --bolt2    write Bolt v2 frames (proto 2, ver1 2) with CRC32 instead of the default Bolt v1
//
// All calls of the scenario are issued at once through one consumer, so sofa-rpc-node writes them
// back to back on its single connection to HOST:PORT (pipelined) and matches replies by id;
// delayEcho calls make the server answer out of order. Payloads: ASCII, Chinese, emoji, 64 KiB
// strings (ASCII and Chinese + emoji), ints, a HashMap reply, a non-ASCII requestProps value, a
// server exception. Checked: every reply exactly (server name included), exactly one TCP connection
// opened, more than one request on the wire before the first reply.
// Success: one JSON line {"ok":true,"calls":N,...} on stdout, exit 0. Failure: one JSON line
// {"ok":false,"error":..,"failures":[..]} on stdout, details on stderr, exit 1. Bad arguments: exit 2.

const net = require('net');
const util = require('util');

function usage(msg) {
  process.stderr.write((msg ? msg + '\n' : '') +
    'usage: node sofa-rpc-client.js --target HOST:PORT [--name N] [--deadline MS] [--bolt2] [--verbose]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { target: null, name: 'sofa-rpc-server', deadline: 10000, bolt2: false, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--target') o.target = argv[++i];
    else if (a === '--name') o.name = argv[++i];
    else if (a === '--deadline') o.deadline = Number(argv[++i]);
    else if (a === '--bolt2') o.bolt2 = true;
    else if (a === '--verbose') o.verbose = true;
    else usage('unknown argument: ' + a);
  }
  const m = /^([^:]+):(\d+)$/.exec(o.target || '');
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) usage('bad or missing --target HOST:PORT');
  if (!Number.isInteger(o.deadline) || o.deadline <= 0) usage('bad --deadline');
  if (typeof o.name !== 'string' || !o.name) usage('bad --name');
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const started = Date.now();

function finish(summary) {
  if (!summary.ok) {
    process.stderr.write('sofa-rpc-client FAILED: ' + summary.error + '\n');
    for (const f of summary.failures || []) process.stderr.write('  ' + JSON.stringify(f) + '\n');
    if (summary.failures && summary.failures.length > 10) {
      summary.failures = summary.failures.slice(0, 10).concat([ { more: summary.failures.length - 10 } ]);
    }
  }
  // exit once stdout is flushed; the library's timers would keep the process alive
  process.stdout.write(JSON.stringify(summary) + '\n', () => process.exit(summary.ok ? 0 : 1));
}

const deadlineTimer = setTimeout(() => {
  finish({ ok: false, error: `deadline of ${opts.deadline} ms exceeded`, pending: [...pending], elapsedMs: Date.now() - started });
}, opts.deadline);
const pending = new Set();

process.on('uncaughtException', err => finish({ ok: false, error: 'uncaught exception: ' + ((err && err.stack) || err) }));
process.on('unhandledRejection', err => finish({ ok: false, error: 'unhandled rejection: ' + ((err && err.stack) || err) }));

// Count the TCP connections the library opens (RpcConnection calls net.connect).
const sockets = [];
const realConnect = net.connect;
net.connect = net.createConnection = function(...args) {
  const s = realConnect.apply(this, args);
  sockets.push(s);
  return s;
};

const { RpcClient } = require('sofa-rpc-node').client;

const logger = (() => {
  const out = level => (...args) => process.stderr.write(`[sofa-rpc-client ${level}] ${util.format(...args)}\n`);
  const quiet = () => {};
  return { debug: opts.verbose ? out('debug') : quiet, info: opts.verbose ? out('info') : quiet, warn: out('warn'), error: out('error') };
})();

const S = s => ({ $class: 'java.lang.String', $: s });
const I = n => ({ $class: 'int', $: n });

// 64 KiB bodies: 65536 ASCII chars, and a Chinese + emoji text of 65536 UTF-16 units (>= 64 KiB as UTF-8 too)
const BIG_ASCII = 'a'.repeat(65536);
const BIG_UNICODE = '你好，世界🚀🎉'.repeat(65536 / 9); // 9 UTF-16 units per repeat -> 65529 units, 152 KiB as UTF-8
const PROP = '你好-mesh 🚀 ok';

function scenario(name) {
  const calls = [];
  const echo = (label, s) => calls.push({ label, method: 'echo', args: [ S(s) ], expect: name + ':' + s });
  for (let i = 0; i < 20; i++) echo('ascii-' + i, 'hello-' + i);
  echo('chinese', '你好，世界');
  echo('emoji', '🚀🎉');
  echo('mixed', 'mixed ascii, 中文 and emoji 🚀🎉 and é');
  echo('empty', '');
  echo('big-ascii-64KiB', BIG_ASCII);
  echo('big-unicode-64KiB', BIG_UNICODE);
  const adds = [[ 1, 2 ], [ -5, 3 ], [ 0, 0 ], [ 2147483000, 600 ], [ -2147483000, -600 ], [ 40000, 2 ], [ 123, 456 ], [ 7, -7 ], [ 1000000, 1000000 ], [ 31, 11 ]];
  adds.forEach(([ a, b ], i) => calls.push({ label: 'add-' + i, method: 'add', args: [ I(a), I(b) ], expect: a + b }));
  // delays decreasing with the index: the server answers these in reverse order
  for (let i = 0; i < 10; i++) {
    const s = 'delayed-' + i + '-你好🚀';
    calls.push({ label: 'delayEcho-' + i, method: 'delayEcho', args: [ S(s), I(20 * (10 - i)) ], expect: name + ':' + s });
  }
  calls.push({ label: 'info-unicode', method: 'info', args: [ S('你好🚀') ], expect: { name, len: 4, arg: '你好🚀' } });
  calls.push({ label: 'info-big', method: 'info', args: [ S(BIG_UNICODE) ], expect: { name, len: BIG_UNICODE.length, arg: BIG_UNICODE } });
  calls.push({ label: 'requestProps', method: 'prop', args: [ S('x-mesh-test') ],
    options: { requestProps: { service: 'com.example.EchoService:1.0', 'x-mesh-test': PROP } }, expect: PROP });
  calls.push({ label: 'fail', method: 'fail', args: [ S('boom 💥') ], expectError: /fail: boom 💥/ });
  return calls;
}

function describe(v) {
  if (typeof v === 'string' && v.length > 80) return `<string of ${v.length} chars: ${JSON.stringify(v.slice(0, 40))}...>`;
  if (v && typeof v === 'object') return JSON.stringify(v, (k, x) => (typeof x === 'string' && x.length > 80 ? describe(x) : x));
  return JSON.stringify(v);
}

function sameValue(got, want) {
  if (want && typeof want === 'object') {
    if (!got || typeof got !== 'object') return false;
    const gk = Object.keys(got).sort();
    const wk = Object.keys(want).sort();
    return gk.length === wk.length && gk.every((k, i) => k === wk[i] && sameValue(got[k], want[k]));
  }
  return got === want;
}

async function main() {
  const client = new RpcClient({
    logger,
    responseTimeout: opts.deadline,
    connectionOpts: {
      protocol: require('sofa-bolt-node'),
      noDelay: true,
      connectTimeout: Math.min(3000, opts.deadline),
    },
  });
  client.on('error', err => logger.warn('client error: %s', err && err.message));
  const consumer = client.createConsumer({
    interfaceName: 'com.example.EchoService',
    version: '1.0',
    serverHost: opts.target, // direct connect: no registry
    responseTimeout: opts.deadline,
  });
  pending.add('connect');
  await consumer.ready();
  pending.delete('connect');
  const conns = [ ...client.connectionManager.connections.values() ];
  const conn = conns[0];
  if (!conn || !conn.isConnected) {
    return finish({ ok: false, error: `could not connect to ${opts.target} (connection refused or connect timeout)`, elapsedMs: Date.now() - started });
  }
  if (opts.bolt2) {
    conn._encoder.protocolType = 'bolt2';
    conn._encoder.boltVersion = 2;
    conn._encoder.crcEnable = true;
  }

  // Pipelining evidence: requests flushed to the socket before the first reply was decoded.
  let written = 0;
  let writtenBeforeFirstReply = null;
  let maxOutstanding = 0;
  const realWriteRequest = conn._encoder.writeRequest.bind(conn._encoder);
  conn._encoder.writeRequest = (id, req, cb) => realWriteRequest(id, req, (err, packet) => {
    if (!err) written++;
    if (cb) cb(err, packet);
  });
  conn._decoder.prependListener('response', () => {
    if (writtenBeforeFirstReply === null) writtenBeforeFirstReply = written;
    maxOutstanding = Math.max(maxOutstanding, conn._sentReqs.size);
  });

  const calls = scenario(opts.name);
  const failures = [];
  const replyOrder = [];
  await Promise.all(calls.map(async c => {
    pending.add(c.label);
    try {
      const got = await consumer.invoke(c.method, c.args, Object.assign({ responseTimeout: opts.deadline }, c.options));
      replyOrder.push(c.label);
      if (c.expectError) failures.push({ call: c.label, want: 'an error matching ' + c.expectError, got: describe(got) });
      else if (!sameValue(got, c.expect)) failures.push({ call: c.label, want: describe(c.expect), got: describe(got) });
    } catch (err) {
      replyOrder.push(c.label);
      const msg = String(err && err.message);
      if (!c.expectError || !c.expectError.test(msg)) {
        failures.push({ call: c.label, want: c.expectError ? 'an error matching ' + c.expectError : describe(c.expect), error: (err && err.name) + ': ' + msg });
      }
    } finally {
      pending.delete(c.label);
    }
  }));

  // The server's own counters (the echoing of its --name is checked above).
  pending.add('stats');
  let server = null;
  try {
    server = await consumer.invoke('stats', [], { responseTimeout: opts.deadline });
  } catch (err) {
    failures.push({ call: 'stats', error: (err && err.name) + ': ' + (err && err.message) });
  }
  pending.delete('stats');
  if (server && server.name !== opts.name) failures.push({ call: 'stats', want: 'name ' + opts.name, got: describe(server) });

  if (sockets.length !== 1) failures.push({ check: 'one connection', got: sockets.length + ' connections opened' });
  if (!(writtenBeforeFirstReply > 1)) failures.push({ check: 'pipelining', got: `${writtenBeforeFirstReply} request(s) on the wire before the first reply` });
  const delayed = replyOrder.filter(l => l.startsWith('delayEcho-'));
  const outOfOrder = delayed.join() !== delayed.slice().sort().join();

  clearTimeout(deadlineTimer);
  client.close().catch(() => {});
  const summary = {
    ok: failures.length === 0,
    calls: calls.length + 1,
    failed: failures.length,
    connections: sockets.length,
    writtenBeforeFirstReply,
    maxOutstanding,
    delayedRepliesOutOfOrder: outOfOrder,
    protocol: opts.bolt2 ? 'bolt v2 (crc32)' : 'bolt v1',
    serverName: server && server.name,
    serverConnections: server && server.connections,
    elapsedMs: Date.now() - started,
  };
  if (failures.length) {
    summary.error = `${failures.length} check(s) failed, first: ${JSON.stringify(failures[0])}`;
    summary.failures = failures;
  }
  finish(summary);
}

main().catch(err => finish({ ok: false, error: (err && err.name ? err.name + ': ' : '') + ((err && err.message) || err), elapsedMs: Date.now() - started }));
