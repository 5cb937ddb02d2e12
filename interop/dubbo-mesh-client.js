#!/usr/bin/env node
'use strict';

// A real apache-dubbo-consumer 4.0.0 (DubboDirectlyInvoker: direct connect, no registry) running
// the sidecar scenario against com.example.EchoService 1.0.0 (see dubbo-mesh-server.js).
//   node interop/dubbo-mesh-client.js --target HOST:PORT [--name N] [--deadline MS] [--dubbo-version V]
// --name          the server's --name, checked in every echo reply (default dubbo-mesh-server)
// --deadline      overall limit in ms (default 10000); on expiry prints {"ok":false,...} and exits 1
// --dubbo-version the version written in each request body (default 2.0.2; the server then uses
//                 response flags 3/4/5 + attachments; any other version gets flags 0/1/2)
// --server-kind   node (default: dubbo-mesh-server.js) | py (dubbo-py-mesh.py server): what the
//                 replies must look like (see "expectations" below)
//
// All calls are issued at once on one invoker: the library queues them until its single TCP
// connection is up, then writes them back to back (pipelined) and matches replies by id;
// delayEcho calls make the server answer out of order (a dubbo-py server answers in order). With
// --server-kind py the calls with an argument over 16 KiB run one at a time after the pipelined
// batch, and no emoji, no string over 32768 chars is sent (dubbo-py can read neither; README). Checked: every reply exactly (server name
// included), exactly one TCP connection, more than one request written before the first reply.
// Success: one JSON line {"ok":true,"calls":N,...} on stdout, exit 0. Failure: one JSON line
// {"ok":false,"error":..,"failures":[..]} on stdout, details on stderr, exit 1. Bad arguments: exit 2.

const net = require('net');

function usage(msg) {
  process.stderr.write((msg ? msg + '\n' : '') +
    'usage: node dubbo-mesh-client.js --target HOST:PORT [--name N] [--deadline MS] [--dubbo-version V] [--server-kind node|py]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { target: null, name: null, deadline: 10000, dubboVersion: '2.0.2', serverKind: 'node' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--target') o.target = argv[++i];
    else if (a === '--name') o.name = argv[++i];
    else if (a === '--deadline') o.deadline = Number(argv[++i]);
    else if (a === '--dubbo-version') o.dubboVersion = argv[++i];
    else if (a === '--server-kind') o.serverKind = argv[++i];
    else usage('unknown argument: ' + a);
  }
  const m = /^([^:]+):(\d+)$/.exec(o.target || '');
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) usage('bad or missing --target HOST:PORT');
  if (!Number.isInteger(o.deadline) || o.deadline <= 0) usage('bad --deadline');
  if (o.serverKind !== 'node' && o.serverKind !== 'py') usage('bad --server-kind');
  if (o.name === null) o.name = o.serverKind === 'py' ? 'dubbo-py-mesh' : 'dubbo-mesh-server';
  if (typeof o.name !== 'string' || !o.name) usage('bad --name');
  if (typeof o.dubboVersion !== 'string' || !o.dubboVersion) usage('bad --dubbo-version');
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const started = Date.now();
const pending = new Set();

function finish(summary) {
  if (!summary.ok) {
    process.stderr.write('dubbo-mesh-client FAILED: ' + summary.error + '\n');
    for (const f of summary.failures || []) process.stderr.write('  ' + JSON.stringify(f) + '\n');
    if (summary.failures && summary.failures.length > 10) {
      summary.failures = summary.failures.slice(0, 10).concat([ { more: summary.failures.length - 10 } ]);
    }
  }
  // exit once stdout is flushed; the library's heartbeat timer would keep the process alive
  process.stdout.write(JSON.stringify(summary) + '\n', () => process.exit(summary.ok ? 0 : 1));
}

const deadlineTimer = setTimeout(() => {
  finish({ ok: false, error: `deadline of ${opts.deadline} ms exceeded`, pending: [ ...pending ], elapsedMs: Date.now() - started });
}, opts.deadline);

process.on('uncaughtException', err => finish({ ok: false, error: 'uncaught exception: ' + ((err && err.stack) || err) }));
process.on('unhandledRejection', err => finish({ ok: false, error: 'unhandled rejection: ' + ((err && err.stack) || err) }));

// Count the TCP connections the library opens (DubboTcpTransport: new net.Socket().connect(..)),
// and fail fast if the first one cannot be made (the library would retry 20 x 3 s).
const sockets = [];
const realConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function(...args) {
  if (!sockets.includes(this)) {
    sockets.push(this);
    if (sockets.length === 1) {
      let connected = false;
      this.once('connect', () => { connected = true; });
      // The library reconnects after a close but never resends: fail at once instead of at the deadline.
      this.once('close', () => {
        if (connected && pending.size) {
          finish({ ok: false, error: `connection to ${opts.target} closed by the peer with ${pending.size} call(s) pending`, pending: [ ...pending ], elapsedMs: Date.now() - started });
        }
      });
      this.once('error', err => {
        if (connected) return; // a later error: the calls fail or time out on their own
        finish({ ok: false, error: `could not connect to ${opts.target}: ${err.message}`, elapsedMs: Date.now() - started });
      });
    }
  }
  return realConnect.apply(this, args);
};

const { DubboDirectlyInvoker } = require('apache-dubbo-consumer');
const DubboTcpTransport = require('apache-dubbo-consumer/lib/dubbo-tcp-transport').default;

// Pipelining evidence: requests handed to the socket before the first reply was decoded.
let written = 0;
let writtenBeforeFirstReply = null;
const realWrite = DubboTcpTransport.prototype.write;
DubboTcpTransport.prototype.write = function(ctx) {
  written++;
  return realWrite.call(this, ctx);
};

const S = s => ({ $class: 'java.lang.String', $: s });
const I = n => ({ $class: 'int', $: n });
const INT = n => ({ $class: 'java.lang.Integer', $: n });

const BIG_ASCII = 'a'.repeat(65536); // hessian.js splits it into two 32768-char chunks ('R' + 'S')
const BIG_UNICODE = '你好，世界🚀🎉'.repeat(65536 / 9); // 65529 UTF-16 units, 152 KiB as UTF-8
const BIG_CHINESE = '你好，世界'.repeat(4400); // 22000 chars, 66000 bytes of UTF-8: one 'S' chunk
// dubbo-py reads neither surrogate pairs (hessian.js' emoji) nor 'R' chunks (strings > 32768 chars)
const ATTACHMENT = opts.serverKind === 'py' ? '你好-mesh ok' : '你好-mesh 🚀 ok';

// What each call must return. node: dubbo-mesh-server.js; py: dubbo-py-mesh.py server.
function scenario(name, kind) {
  const calls = [];
  const echo = (label, s) => calls.push({ label, method: 'echo', args: [ S(s) ], expect: name + ':' + s });
  for (let i = 0; i < 20; i++) echo('ascii-' + i, 'hello-' + i);
  echo('chinese', '你好，世界');
  echo('empty', '');
  echo('big-chinese-64KiB', BIG_CHINESE);
  if (kind === 'node') {
    echo('emoji', '🚀🎉');
    echo('mixed', 'mixed ascii, 中文 and emoji 🚀🎉 and é');
    echo('big-ascii-64KiB', BIG_ASCII);
    echo('big-unicode-64KiB', BIG_UNICODE);
  } else {
    // dubbo-py can not read surrogate pairs (hessian.js' emoji) nor 'R' chunks: see README
    echo('mixed-bmp', 'mixed ascii, 中文 and é');
    echo('big-ascii-32KiB', BIG_ASCII.slice(0, 32768)); // the longest string hessian.js writes unchunked
  }
  const adds = [[ 1, 2 ], [ -5, 3 ], [ 0, 0 ], [ 40000, 2 ], [ 123, 456 ], [ 7, -7 ], [ 100000, 23 ], [ 31, 11 ]];
  if (kind === 'node') adds.push([ 2147483000, 600 ], [ -2147483000, -600 ]);
  adds.forEach(([ a, b ], i) => calls.push({ label: 'add-' + i, method: 'add', args: [ INT(a), INT(b) ], expect: a + b }));
  for (let i = 0; i < 10; i++) {
    const s = 'delayed-' + i + '-你好';
    calls.push({ label: 'delayEcho-' + i, method: 'delayEcho', args: [ S(s), I(20 * (10 - i)) ], expect: name + ':' + s });
  }
  const infoArg = kind === 'node' ? '你好🚀' : '你好';
  calls.push({ label: 'info-unicode', method: 'info', args: [ S(infoArg) ], expect: { name, len: infoArg.length, arg: infoArg } });
  if (kind === 'node') {
    calls.push({ label: 'info-big', method: 'info', args: [ S(BIG_UNICODE) ], expect: { name, len: BIG_UNICODE.length, arg: BIG_UNICODE } });
    calls.push({ label: 'attachment', method: 'attachment', args: [ S('x-mesh-test') ], expect: ATTACHMENT });
  } else {
    calls.push({ label: 'info-big', method: 'info', args: [ S(BIG_CHINESE) ], expect: { name, len: BIG_CHINESE.length, arg: BIG_CHINESE } });
  }
  calls.push({ label: 'fail', method: 'fail', args: [ S('boom') ], expectError: /fail: boom/ });
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
  const invoker = DubboDirectlyInvoker.from({
    dubboHost: opts.target,
    dubboVersion: opts.dubboVersion,
    dubboInvokeTimeout: opts.deadline,
  });
  const methods = {};
  for (const m of [ 'echo', 'add', 'delayEcho', 'info', 'attachment', 'fail', 'stats' ]) methods[m] = (...args) => args;
  const proxy = invoker.proxyService({
    dubboInterface: 'com.example.EchoService',
    version: '1.0.0',
    group: '',
    attachments: { 'x-mesh-test': ATTACHMENT },
    methods,
  });
  const realOnData = invoker.transport.subscriber.onData;
  invoker.transport.subscriber.onData = data => {
    if (writtenBeforeFirstReply === null) writtenBeforeFirstReply = written;
    return realOnData(data);
  };

  const calls = scenario(opts.name, opts.serverKind);
  const failures = [];
  const replyOrder = [];
  const runCall = async c => {
    pending.add(c.label);
    // apache-dubbo-common's go(): resolves to {res, err}, never rejects
    const { res, err } = await proxy[c.method](...c.args);
    pending.delete(c.label);
    replyOrder.push(c.label);
    if (err) {
      const msg = String(err.message);
      if (!c.expectError || !c.expectError.test(msg)) {
        failures.push({ call: c.label, want: c.expectError ? 'an error matching ' + c.expectError : describe(c.expect), error: err.name + ': ' + msg });
      }
    } else if (c.expectError) {
      failures.push({ call: c.label, want: 'an error matching ' + c.expectError, got: describe(res) });
    } else if (!sameValue(res, c.expect)) {
      failures.push({ call: c.label, want: describe(c.expect), got: describe(res) });
    }
  };
  // A dubbo-py server loses pipelined frames that follow a large one (its Decoder._read asks recv()
  // for the whole length again after a short read): with --server-kind py the calls with a body
  // over 16 KiB go one at a time after the pipelined batch.
  const isBig = c => opts.serverKind === 'py' && c.args.some(a => typeof a.$ === 'string' && a.$.length > 16384);
  await Promise.all(calls.filter(c => !isBig(c)).map(runCall));
  for (const c of calls.filter(isBig)) await runCall(c);

  pending.add('stats');
  const { res: server, err: statsErr } = await proxy.stats();
  pending.delete('stats');
  if (statsErr) failures.push({ call: 'stats', error: statsErr.name + ': ' + statsErr.message });
  else if (!server || server.name !== opts.name) failures.push({ call: 'stats', want: 'name ' + opts.name, got: describe(server) });

  if (sockets.length !== 1) failures.push({ check: 'one connection', got: sockets.length + ' connections opened' });
  if (!(writtenBeforeFirstReply > 1)) failures.push({ check: 'pipelining', got: `${writtenBeforeFirstReply} request(s) written before the first reply` });
  const delayed = replyOrder.filter(l => l.startsWith('delayEcho-'));

  clearTimeout(deadlineTimer);
  invoker.close();
  const summary = {
    ok: failures.length === 0,
    calls: calls.length + 1,
    failed: failures.length,
    connections: sockets.length,
    writtenBeforeFirstReply,
    delayedRepliesOutOfOrder: delayed.join() !== delayed.slice().sort().join(),
    dubboVersion: opts.dubboVersion,
    serverKind: opts.serverKind,
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
