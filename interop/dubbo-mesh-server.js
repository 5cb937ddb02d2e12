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
// Every reply carries the response attachment x-served-by=N (dubbo 2.0.2 requests only). All but
// attachment() are echoService() of mesh-common.js, shared with sofa-rpc-server.js.
//
// By default a frame the library cannot decode kills the process (the library's own behaviour:
// an unhandled rejection inside its socket callback; see README "Observed quirks"); the exit is
// reported on stderr. --survive-decode-errors logs it instead and keeps serving (that request
// then gets no reply); stats().decodeErrors counts them.

const mesh = require('./mesh-common');

const opts = mesh.serverArgs('dubbo-mesh-server', { '--survive-decode-errors': [ 'survive' ] });
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
mesh.exitOnCrash('dubbo-mesh-server', { rejections: false });

// Each method gets the decoded args, then the request context (ctx) last.
const methods = {};
for (const [ method, fn ] of Object.entries(mesh.echoService(NAME, stats))) {
  methods[method] = (...args) => {
    const ctx = args.pop();
    if (method !== 'stats') stats.requests++;
    ctx.attachments = { 'x-served-by': NAME };
    return fn(...args);
  };
}
methods.attachment = (key, ctx) => {
  stats.requests++;
  ctx.attachments = { 'x-served-by': NAME };
  const v = ctx.request.attachment[key];
  return v === undefined ? null : v;
};

mesh.dubboLoopbackService({
  label: 'dubbo-mesh-server',
  iface: 'com.example.EchoService',
  services: { echoService: { dubboInterface: 'com.example.EchoService', methods } },
  port: opts.port,
  onConnection: () => { stats.connections++; },
});
