#!/usr/bin/env node
'use strict';

// A real apache-dubbo-service 0.0.1 provider on 127.0.0.1:<port>, direct mode (no registry).
//   node interop/dubbo-provider.js PORT      -> prints "READY <port>" once listening; SIGTERM stops it.
// Service com.example.acceptance.DemoService, version 1.0.0, group "" (empty):
//   echo(String) -> s, sayHello(String) -> "hello " + s, big(int n) -> "x" * n, fail(String) -> throws.
// Every reply carries the response attachment x-served-by=node-provider (plus the library's dubbo=2.0.2).

const net = require('net');
const { DubboService, dubboSetting } = require('apache-dubbo-service');

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write('usage: node dubbo-provider.js PORT\n');
  process.exit(2);
}

const INTERFACE = 'com.example.acceptance.DemoService';

const demoService = {
  dubboInterface: INTERFACE,
  methods: {
    // Each method gets the decoded args, then the request context (ctx) last.
    echo(s, ctx) {
      ctx.attachments = { 'x-served-by': 'node-provider' };
      return s;
    },
    sayHello(s, ctx) {
      ctx.attachments = { 'x-served-by': 'node-provider' };
      return 'hello ' + s;
    },
    big(n, ctx) {
      ctx.attachments = { 'x-served-by': 'node-provider' };
      return 'x'.repeat(n);
    },
    fail(s) {
      throw new Error('fail: ' + s);
    },
  },
};

// Direct mode: a registry that registers nothing (DubboService insists on one).
const noRegistry = {
  ready: () => Promise.resolve(),
  registerServices: () => Promise.resolve(),
  close() {},
};

const service = DubboService.from({
  registry: noRegistry,
  dubboSetting: dubboSetting.match(INTERFACE, { group: '', version: '1.0.0' }),
  services: { demoService },
});

// DubboService.listen() picks a random port in 20888..30000 and binds every interface. Replace it
// (before its nextTick fires) with a listen on 127.0.0.1:<port>; the socket handler, framing,
// heartbeat and routing stay the library's own.
service.listen = async () => {
  service.port = port;
  service.server = net.createServer(service.handleSocketRequest);
  service.server.on('error', err => {
    process.stderr.write('listen failed: ' + err.message + '\n');
    process.exit(1);
  });
  service.server.listen(port, '127.0.0.1', () => service.registerServices());
};

service.ready().then(() => process.stdout.write(`READY ${port}\n`));

function stop() {
  service.server.close();
  // Open consumer sockets (and their 60 s heartbeat timers) would keep the process alive.
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
