#!/usr/bin/env node
'use strict';

// A real apache-dubbo-service 0.0.1 provider on 127.0.0.1:<port>, direct mode (no registry).
//   node interop/dubbo-provider.js PORT      -> prints "READY <port>" once listening; SIGTERM stops it.
// Service com.example.acceptance.DemoService, version 1.0.0, group "" (empty):
//   echo(String) -> s, sayHello(String) -> "hello " + s, big(int n) -> "x" * n, fail(String) -> throws.
// Every reply carries the response attachment x-served-by=node-provider (plus the library's dubbo=2.0.2).

const { dubboLoopbackService } = require('./mesh-common');

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

dubboLoopbackService({ label: 'dubbo-provider', iface: INTERFACE, services: { demoService }, port });
