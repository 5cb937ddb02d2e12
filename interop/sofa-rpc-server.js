#!/usr/bin/env node
'use strict';

// A real sofa-rpc-node 2.10.0 RpcServer (SOFA Bolt, hessian2) on 127.0.0.1, no registry.
//   node interop/sofa-rpc-server.js --port P [--name N] [--verbose]
// Prints exactly "READY <port>" on stdout once listening (--port 0 picks a free port and prints
// it), nothing else on stdout ever; library logs go to stderr (only warnings/errors unless
// --verbose). SIGTERM/SIGINT stop it with exit code 0.
//
// Service com.example.EchoService, version 1.0 (id "com.example.EchoService:1.0"):
//   echo(String s)              -> N + ":" + s
//   add(int a, int b)           -> a + b
//   delayEcho(String s, int ms) -> N + ":" + s after ms milliseconds (replies leave out of order)
//   info(String s)              -> {"name":N,"len":<UTF-16 length of s>,"arg":s} (a java.util.HashMap)
//   prop(String key)            -> the request's requestProps[key] (SofaRequest.requestProps, in the
//                                  hessian body; the Bolt header map only carries "service"), or null
//   fail(String s)              -> throws Error("fail: " + s) (a Bolt SERVER_EXCEPTION response)
//   stats()                     -> {"name":N,"connections":<accepted so far>,"requests":<served so far>}
// sofa-rpc-node's RpcServer.start() listens on every interface; _startServer is overridden here
// to bind 127.0.0.1 only. Everything else (framing, decoding, heartbeat acks, routing by
// "interface:version", idle close after 90 s) is the library's own.

const net = require('net');

function usage(msg) {
  process.stderr.write((msg ? msg + '\n' : '') + 'usage: node sofa-rpc-server.js --port P [--name N] [--verbose]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { port: null, name: 'sofa-rpc-server', verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') o.port = Number(argv[++i]);
    else if (a === '--name') o.name = argv[++i];
    else if (a === '--verbose') o.verbose = true;
    else usage('unknown argument: ' + a);
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) usage('bad or missing --port');
  if (typeof o.name !== 'string' || !o.name) usage('bad --name');
  return o;
}

const opts = parseArgs(process.argv.slice(2));

// Exit at once on a bug instead of graceful's 30 s "kill timeout" (graceful is installed by
// RpcServer.start()); registered first so it runs before graceful's handler.
process.on('uncaughtException', err => {
  process.stderr.write('sofa-rpc-server: uncaught exception: ' + ((err && err.stack) || err) + '\n');
  process.exit(1);
});
process.on('unhandledRejection', err => {
  process.stderr.write('sofa-rpc-server: unhandled rejection: ' + ((err && err.stack) || err) + '\n');
  process.exit(1);
});

// Logger for the library: stderr only, so stdout carries nothing but "READY <port>".
function stderrLogger(verbose) {
  const util = require('util');
  const out = level => (...args) => process.stderr.write(`[sofa-rpc-server ${level}] ${util.format(...args)}\n`);
  const quiet = () => {};
  return { debug: verbose ? out('debug') : quiet, info: verbose ? out('info') : quiet, warn: out('warn'), error: out('error') };
}

const { RpcServer } = require('sofa-rpc-node').server;

class LoopbackRpcServer extends RpcServer {
  // The service methods run with `this` = this context, so prop() can read the request.
  createContext(req, res) {
    return { req, res };
  }

  // Same as RpcServer#_startServer, but bound to 127.0.0.1.
  _startServer(port) {
    const server = net.createServer();
    server.once('error', err => { this.emit('error', err); });
    server.on('connection', socket => {
      stats.connections++;
      this._handleSocket(socket);
    });
    server.listen(port, '127.0.0.1', () => {
      const realPort = server.address().port;
      if (port === this.publishPort && port === 0) this.publishPort = realPort;
      this.logger.info('[RpcServer] server start on 127.0.0.1:%s', realPort);
    });
    return server;
  }
}

const stats = { connections: 0, requests: 0 };
const NAME = opts.name;
const logger = stderrLogger(opts.verbose);

const server = new LoopbackRpcServer({
  logger,
  port: opts.port,
  // no registry: nothing is published anywhere, clients connect to 127.0.0.1:<port> directly
  killTimeout: 1000,
});

// The library requires async functions (RpcService#invoke checks is.asyncFunction).
server.addService({ interfaceName: 'com.example.EchoService', version: '1.0' }, {
  async echo(s) {
    stats.requests++;
    return NAME + ':' + s;
  },
  async add(a, b) {
    stats.requests++;
    return { $class: 'int', $: a + b };
  },
  async delayEcho(s, ms) {
    stats.requests++;
    await new Promise(resolve => setTimeout(resolve, Math.max(0, Math.min(Number(ms) || 0, 10000))));
    return NAME + ':' + s;
  },
  async info(s) {
    stats.requests++;
    return { $class: 'java.util.HashMap', $: { name: NAME, len: { $class: 'int', $: String(s).length }, arg: s } };
  },
  async prop(key) {
    stats.requests++;
    const props = (this && this.req && this.req.data && this.req.data.requestProps) || {};
    return props[key] === undefined ? null : props[key];
  },
  async fail(s) {
    stats.requests++;
    const err = new Error('fail: ' + s);
    err.ignoreLog = true; // an expected error: do not log it
    throw err;
  },
  async stats() {
    return { $class: 'java.util.HashMap', $: {
      name: NAME,
      connections: { $class: 'int', $: stats.connections },
      requests: { $class: 'int', $: stats.requests },
    } };
  },
});

server.on('error', err => {
  // listen errors (EADDRINUSE) and errors of request handling
  process.stderr.write('sofa-rpc-server: ' + ((err && err.stack) || err) + '\n');
  if (err && err.syscall === 'listen') process.exit(1);
});

server.start().then(() => {
  process.stdout.write(`READY ${server.publishPort}\n`);
}, err => {
  process.stderr.write('sofa-rpc-server: start failed: ' + ((err && err.message) || err) + '\n');
  process.exit(1);
});

function stop() {
  // Close the listener and every open connection, then exit; never wait on client sockets.
  const timer = setTimeout(() => process.exit(0), 500);
  timer.unref();
  server.close().then(() => process.exit(0), () => process.exit(0));
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
