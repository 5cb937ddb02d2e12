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
// All but prop() are echoService() of mesh-common.js, shared with dubbo-mesh-server.js.
// sofa-rpc-node's RpcServer.start() listens on every interface; _startServer is overridden here
// to bind 127.0.0.1 only. Everything else (framing, decoding, heartbeat acks, routing by
// "interface:version", idle close after 90 s) is the library's own.

const net = require('net');
const mesh = require('./mesh-common');

const opts = mesh.serverArgs('sofa-rpc-server', { '--verbose': [ 'verbose' ] });

// Exit at once on a bug instead of graceful's 30 s "kill timeout" (graceful is installed by
// RpcServer.start()); registered first so it runs before graceful's handler.
mesh.exitOnCrash('sofa-rpc-server');

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

const server = new LoopbackRpcServer({
  // library logs: stderr only, so stdout carries nothing but "READY <port>"
  logger: mesh.stderrLogger('sofa-rpc-server', opts.verbose),
  port: opts.port,
  // no registry: nothing is published anywhere, clients connect to 127.0.0.1:<port> directly
  killTimeout: 1000,
});

// The library requires async functions (RpcService#invoke checks is.asyncFunction).
const methods = {};
for (const [ method, fn ] of Object.entries(mesh.echoService(opts.name, stats))) {
  methods[method] = async function(...args) {
    if (method !== 'stats') stats.requests++;
    return fn(...args);
  };
}
methods.prop = async function(key) {
  stats.requests++;
  const props = (this && this.req && this.req.data && this.req.data.requestProps) || {};
  return props[key] === undefined ? null : props[key];
};
server.addService({ interfaceName: 'com.example.EchoService', version: '1.0' }, methods);

server.on('error', err => {
  // listen errors (EADDRINUSE) and errors of request handling
  process.stderr.write('sofa-rpc-server: ' + ((err && err.stack) || err) + '\n');
  if (err && err.syscall === 'listen') process.exit(1);
});

server.start().then(() => mesh.printReady(server.publishPort), err => {
  process.stderr.write('sofa-rpc-server: start failed: ' + ((err && err.message) || err) + '\n');
  process.exit(1);
});

mesh.onStop(() => {
  // Close the listener and every open connection, then exit; never wait on client sockets.
  const timer = setTimeout(() => process.exit(0), 500);
  timer.unref();
  server.close().then(() => process.exit(0), () => process.exit(0));
});
