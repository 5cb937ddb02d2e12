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
//                 replies must look like (scenario() in mesh-common.js)
//
// All calls of the scenario (mesh-common.js) are issued at once on one invoker: the library queues
// them until its single TCP connection is up, then writes them back to back (pipelined) and
// matches replies by id; delayEcho calls make the server answer out of order (a dubbo-py server
// answers in order). With --server-kind py the calls with an argument over 16 KiB run one at a
// time after the pipelined batch, and no emoji, no string over 32768 chars is sent (dubbo-py can
// read neither; README). Checked: every reply exactly (server name included), exactly one TCP
// connection, more than one request written before the first reply.
// Success: one JSON line {"ok":true,"calls":N,...} on stdout, exit 0. Failure: one JSON line
// {"ok":false,"error":..,"failures":[..]} on stdout, details on stderr, exit 1. Bad arguments: exit 2.

const net = require('net');
const mesh = require('./mesh-common');

const opts = mesh.clientArgs('dubbo-mesh-client', {
  flags: { '--dubbo-version': [ 'dubboVersion', 'V', '2.0.2' ], '--server-kind': [ 'serverKind', 'node|py', 'node' ] },
  check(o, usage) {
    if (o.serverKind !== 'node' && o.serverKind !== 'py') usage('bad --server-kind');
    if (typeof o.dubboVersion !== 'string' || !o.dubboVersion) usage('bad --dubbo-version');
    if (o.name === null) o.name = o.serverKind === 'py' ? 'dubbo-py-mesh' : 'dubbo-mesh-server';
  },
});
const run = mesh.clientRun('dubbo-mesh-client', opts.deadline);
const failFast = fields => run.finish(Object.assign({ ok: false }, fields, { elapsedMs: run.elapsedMs() }));

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
        if (connected && run.pending.size) {
          failFast({ error: `connection to ${opts.target} closed by the peer with ${run.pending.size} call(s) pending`, pending: [ ...run.pending ] });
        }
      });
      this.once('error', err => {
        if (connected) return; // a later error: the calls fail or time out on their own
        failFast({ error: `could not connect to ${opts.target}: ${err.message}` });
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

// node: dubbo-mesh-server.js; py: dubbo-py-mesh.py server, which can read neither surrogate pairs
// (hessian.js' emoji) nor 'R' chunks (strings > 32768 chars): see README.
const full = opts.serverKind === 'node';
const ATTACHMENT = full ? '你好-mesh 🚀 ok' : '你好-mesh ok';

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

  // 64 KiB of UTF-8 that any server reads (one unchunked string)
  const extra = [ { label: 'big-chinese-64KiB', method: 'echo', args: [ mesh.S(mesh.BIG_CHINESE) ], expect: opts.name + ':' + mesh.BIG_CHINESE } ];
  if (full) extra.push({ label: 'attachment', method: 'attachment', args: [ mesh.S('x-mesh-test') ], expect: ATTACHMENT });
  // add(Integer, Integer): apache-dubbo-service splits the descriptor on ';', so "II" would read 1 arg
  const calls = mesh.scenario(opts.name, { full, int: mesh.INT, extra });
  // apache-dubbo-common's go(): resolves to {res, err}, never rejects
  const invoke = c => proxy[c.method](...c.args);
  // A dubbo-py server loses pipelined frames that follow a large one (its Decoder._read asks recv()
  // for the whole length again after a short read): with --server-kind py the calls with a body
  // over 16 KiB go one at a time after the pipelined batch.
  const isBig = c => !full && c.args.some(a => typeof a.$ === 'string' && a.$.length > 16384);
  const result = await mesh.runScenario(run, opts.name, calls, invoke, isBig);

  invoker.close();
  mesh.report(run, result, {
    connections: sockets.length,
    writtenBeforeFirstReply,
    peer: { dubboVersion: opts.dubboVersion, serverKind: opts.serverKind },
  });
}

run.main(main);
