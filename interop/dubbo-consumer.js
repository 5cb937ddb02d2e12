#!/usr/bin/env node
'use strict';

// A real apache-dubbo-consumer 4.0.0 in direct-connect mode (DubboDirectlyInvoker, no registry).
//   node interop/dubbo-consumer.js PORT [--timeout MS] [--host 127.0.0.1] < calls.json
// stdin:  [{"method":"echo","args":["hi"],"attachments":{"k":"v"}}, ...]
//         optional per call: "service" (default com.example.acceptance.DemoService), "version"
//         (default 1.0.0), "group" (default ""). A plain arg becomes java.lang.String / int /
//         double / boolean; anything else needs js-to-java notation {"$class":..,"$":..}.
// stdout: [{"ok":true,"value":...} | {"ok":false,"error":"...","errorName":"..."}]  (input order)
// All calls are issued at once: the library queues them until the single TCP connection is up,
// then writes them back to back (pipelined) and matches replies by request id.

const fs = require('fs');
const { DubboDirectlyInvoker } = require('apache-dubbo-consumer');

const INTERFACE = 'com.example.acceptance.DemoService';

function parseArgs(argv) {
  const o = { port: Number(argv[0]), host: '127.0.0.1', timeout: 5000 };
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] === '--timeout') o.timeout = Number(argv[++i]);
    else if (argv[i] === '--host') o.host = argv[++i];
    else throw new Error('unknown argument: ' + argv[i]);
  }
  if (!Number.isInteger(o.port) || o.port <= 0 || o.port > 65535) throw new Error('bad PORT');
  return o;
}

function javaArg(a) {
  if (a && typeof a === 'object' && a.$class !== undefined) return a;
  if (typeof a === 'string') return { $class: 'java.lang.String', $: a };
  if (typeof a === 'boolean') return { $class: 'boolean', $: a };
  if (typeof a === 'number') return { $class: Number.isInteger(a) ? 'int' : 'double', $: a };
  return a; // the library rejects it: "not all arguments are valid hessian type"
}

function toJson(v) {
  return JSON.parse(JSON.stringify(v === undefined ? null : v, (k, x) =>
    (Buffer.isBuffer(x) || (x && x.type === 'Buffer' && Array.isArray(x.data)) ? { $bytes: Buffer.from(x.data || x).toString('hex') } : x)));
}

async function main() {
  let opts,
    calls;
  try {
    opts = parseArgs(process.argv.slice(2));
    calls = JSON.parse(fs.readFileSync(0, 'utf8'));
    if (!Array.isArray(calls)) throw new Error('stdin must be a JSON array of calls');
  } catch (e) {
    process.stderr.write(e.message + '\nusage: node dubbo-consumer.js PORT [--timeout MS] < calls.json\n');
    process.exit(2);
  }
  const invoker = DubboDirectlyInvoker.from({
    dubboHost: `${opts.host}:${opts.port}`,
    dubboVersion: '2.0.2',
    dubboInvokeTimeout: opts.timeout,
  });
  // One proxy per call so that each call carries its own attachments (the library fixes
  // attachments per proxy); all proxies share the invoker's one connection.
  const results = await Promise.all(calls.map(async c => {
    const proxy = invoker.proxyService({
      dubboInterface: c.service || INTERFACE,
      version: c.version || '1.0.0',
      group: c.group || '',
      attachments: c.attachments || {},
      methods: { [c.method]: (...args) => args.map(javaArg) },
    });
    const { res, err } = await proxy[c.method](...(c.args || []));
    if (err) return { ok: false, error: String(err.message), errorName: err.name || null };
    return { ok: true, value: toJson(res) };
  }));
  invoker.close();
  // exit once stdout is flushed (a heartbeat timer of the library would keep the process alive)
  process.stdout.write(JSON.stringify(results) + '\n', () => process.exit(0));
}

main().catch(e => {
  process.stderr.write(((e && e.stack) || String(e)) + '\n');
  process.exit(1);
});
