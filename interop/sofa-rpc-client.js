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
// All calls of the scenario (mesh-common.js) are issued at once through one consumer, so
// sofa-rpc-node writes them back to back on its single connection to HOST:PORT (pipelined) and
// matches replies by id; delayEcho calls make the server answer out of order. Payloads: ASCII,
// Chinese, emoji, 64 KiB strings (ASCII and Chinese + emoji), ints, a HashMap reply, a non-ASCII
// requestProps value, a server exception. Checked: every reply exactly (server name included),
// exactly one TCP connection opened, more than one request on the wire before the first reply.
// Success: one JSON line {"ok":true,"calls":N,...} on stdout, exit 0. Failure: one JSON line
// {"ok":false,"error":..,"failures":[..]} on stdout, details on stderr, exit 1. Bad arguments: exit 2.

const net = require('net');
const mesh = require('./mesh-common');

const opts = mesh.clientArgs('sofa-rpc-client', { name: 'sofa-rpc-server', flags: { '--bolt2': [ 'bolt2' ], '--verbose': [ 'verbose' ] } });
const run = mesh.clientRun('sofa-rpc-client', opts.deadline);

// Count the TCP connections the library opens (RpcConnection calls net.connect).
const sockets = [];
const realConnect = net.connect;
net.connect = net.createConnection = function(...args) {
  const s = realConnect.apply(this, args);
  sockets.push(s);
  return s;
};

const { RpcClient } = require('sofa-rpc-node').client;

const logger = mesh.stderrLogger('sofa-rpc-client', opts.verbose);
const PROP = '你好-mesh 🚀 ok';

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
  run.pending.add('connect');
  await consumer.ready();
  run.pending.delete('connect');
  const conns = [ ...client.connectionManager.connections.values() ];
  const conn = conns[0];
  if (!conn || !conn.isConnected) {
    return run.finish({ ok: false, error: `could not connect to ${opts.target} (connection refused or connect timeout)`, elapsedMs: run.elapsedMs() });
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

  const calls = mesh.scenario(opts.name, {
    full: true,
    int: mesh.I,
    extra: [ { label: 'requestProps', method: 'prop', args: [ mesh.S('x-mesh-test') ],
      options: { requestProps: { service: 'com.example.EchoService:1.0', 'x-mesh-test': PROP } }, expect: PROP } ],
  });
  const invoke = c => consumer.invoke(c.method, c.args, Object.assign({ responseTimeout: opts.deadline }, c.options))
    .then(res => ({ res }), err => ({ err }));
  const result = await mesh.runScenario(run, opts.name, calls, invoke);

  client.close().catch(() => {});
  mesh.report(run, result, {
    connections: sockets.length,
    writtenBeforeFirstReply,
    wire: { maxOutstanding },
    peer: { protocol: opts.bolt2 ? 'bolt v2 (crc32)' : 'bolt v1' },
  });
}

run.main(main);
