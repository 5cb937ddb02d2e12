#!/usr/bin/env node
'use strict';

// A real apache-dubbo-service 0.0.1 provider for the sidecar scenario, on 127.0.0.1, no registry.
//   node interop/dubbo-mesh-server.js --port P [--name N] [--survive-decode-errors]
// Prints exactly "READY <port>" on stdout once listening (--port 0 picks a free port), nothing
// else on stdout ever. SIGTERM/SIGINT stop it with exit code 0.
//
// Service com.example.EchoService, version 1.0.0, group "" (routing is the library's: path
// attachment + method + version + group):
//   echo(String s)                   -> N + ":" + s
//   add(Integer a, Integer b)        -> a + b   (boxed: the library's decodeDubboRequest splits the
//                                      descriptor on ';', so add(int,int) = "II" would read 1 arg)
//   delayEcho(String s, int ms)      -> N + ":" + s after ms ms (replies leave out of order)
//   info(String s)                   -> {"name":N,"len":<UTF-16 length of s>,"arg":s} (HashMap)
//   attachment(String key)           -> the value of request attachment `key` (null if absent)
//   fail(String s)                   -> throws Error("fail: " + s): status 20, flag 3 (dubbo 2.0.2)
//                                      or 0 (others), the message as a hessian string
//   stats()                          -> {"name":N,"connections":<accepted>,"requests":<served>,"decodeErrors":n}
// Every reply carries the response attachment x-served-by=N (dubbo 2.0.2 requests only).
//
// By default a frame the library cannot decode kills the process (the library's own behaviour:
// an unhandled rejection inside its socket callback; see README "Observed quirks"); the exit is
// reported on stderr. --survive-decode-errors logs it instead and keeps serving (that request
// then gets no reply); stats().decodeErrors counts them.

const net = require('net');

function usage(msg) {
  process.stderr.write((msg ? msg + '\n' : '') +
    'usage: node dubbo-mesh-server.js --port P [--name N] [--survive-decode-errors]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { port: null, name: 'dubbo-mesh-server', survive: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') o.port = Number(argv[++i]);
    else if (a === '--name') o.name = argv[++i];
    else if (a === '--survive-decode-errors') o.survive = true;
    else usage('unknown argument: ' + a);
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) usage('bad or missing --port');
  if (typeof o.name !== 'string' || !o.name) usage('bad --name');
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const NAME = opts.name;
const stats = { connections: 0, requests: 0, decodeErrors: 0 };

process.on('unhandledRejection', err => {
  stats.decodeErrors++;
  const msg = 'dubbo-mesh-server: apache-dubbo-service failed on a frame (unhandled rejection): ' + ((err && err.stack) || err) + '\n';
  if (opts.survive) {
    process.stderr.write(msg + 'dubbo-mesh-server: --survive-decode-errors: still serving; that request gets no reply\n');
    return;
  }
  process.stderr.write(msg + 'dubbo-mesh-server: exiting with code 1 (as the library would)\n');
  process.exit(1);
});
process.on('uncaughtException', err => {
  process.stderr.write('dubbo-mesh-server: uncaught exception: ' + ((err && err.stack) || err) + '\n');
  process.exit(1);
});

const { DubboService, dubboSetting } = require('apache-dubbo-service');

const INTERFACE = 'com.example.EchoService';
const int = n => ({ $class: 'int', $: n }); // a js-to-java int is truthy, so 0 is not sent as null

function served(ctx) {
  stats.requests++;
  ctx.attachments = { 'x-served-by': NAME };
}

const echoService = {
  dubboInterface: INTERFACE,
  methods: {
    // Each method gets the decoded args, then the request context (ctx) last.
    echo(s, ctx) {
      served(ctx);
      return NAME + ':' + s;
    },
    add(a, b, ctx) {
      served(ctx);
      return int(a + b);
    },
    async delayEcho(s, ms, ctx) {
      served(ctx);
      await new Promise(resolve => setTimeout(resolve, Math.max(0, Math.min(Number(ms) || 0, 10000))));
      return NAME + ':' + s;
    },
    info(s, ctx) {
      served(ctx);
      return { $class: 'java.util.HashMap', $: { name: NAME, len: int(String(s).length), arg: s } };
    },
    attachment(key, ctx) {
      served(ctx);
      const v = ctx.request.attachment[key];
      return v === undefined ? null : v;
    },
    fail(s, ctx) {
      served(ctx);
      throw new Error('fail: ' + s);
    },
    stats(ctx) {
      ctx.attachments = { 'x-served-by': NAME };
      return { $class: 'java.util.HashMap', $: {
        name: NAME,
        connections: int(stats.connections),
        requests: int(stats.requests),
        decodeErrors: int(stats.decodeErrors),
      } };
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
  services: { echoService },
});

// DubboService.listen() picks a random port in 20888..30000 and binds every interface. Replace it
// (before its nextTick fires) with a listen on 127.0.0.1:<port>; the socket handler, framing,
// heartbeat and routing stay the library's own.
service.listen = async () => {
  service.server = net.createServer(socket => {
    stats.connections++;
    service.handleSocketRequest(socket);
  });
  service.server.on('error', err => {
    process.stderr.write('dubbo-mesh-server: listen failed: ' + err.message + '\n');
    process.exit(1);
  });
  service.server.listen(opts.port, '127.0.0.1', () => {
    service.port = service.server.address().port;
    service.registerServices();
  });
};

service.ready().then(() => process.stdout.write(`READY ${service.port}\n`));

function stop() {
  if (service.server) service.server.close();
  // Open consumer sockets (and their 60 s heartbeat timers) would keep the process alive.
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
