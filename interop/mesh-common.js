'use strict';

// What the sidecar-scenario peers (sofa-rpc-*.js, dubbo-mesh-*.js) share, so that it is written
// once: argument parsing, the conventions of interop/README.md "Through the sidecar pair" (servers
// print "READY <port>" and stop on SIGTERM/SIGINT with exit 0; clients print one JSON summary line,
// exit 0/1, 2 for bad arguments, and give up at --deadline), the EchoService every server serves,
// the scenario's calls with the reply each must get, and apache-dubbo-service on 127.0.0.1 without
// a registry (also used by dubbo-provider.js). The libraries are required only by what uses them.

const net = require('net');
const util = require('util');

// ------------------------------------------------------------------------------ arguments

/**
 * Reads process.argv for `script`. Each flag is [ key, META, default, convert ] (it takes a value)
 * or [ key ] (a switch, default false). Bad arguments print the message and the usage line (made
 * from `shown` and the flags of `own`) on stderr and exit 2; a flag given without its value reads as
 * undefined (NaN for a number), which the checks then refuse. Returns the options and usage(msg).
 */
function parseArgs(script, shown, common, own) {
  const usageLine = [ `usage: node ${script}.js ${shown}` ]
    .concat(Object.entries(own).map(([ flag, [ , meta ] ]) => `[${meta ? flag + ' ' + meta : flag}]`)).join(' ');
  const usage = msg => {
    process.stderr.write((msg ? msg + '\n' : '') + usageLine + '\n');
    process.exit(2);
  };
  const flags = Object.assign({}, common, own);
  const o = {};
  for (const [ key, meta, value ] of Object.values(flags)) o[key] = meta ? value : false;
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const flag = flags[argv[i]];
    if (!flag) usage('unknown argument: ' + argv[i]);
    const [ key, meta, , convert = v => v ] = flag;
    o[key] = meta ? convert(argv[++i]) : true;
  }
  return { o, usage };
}

function checkName(o, usage) {
  if (typeof o.name !== 'string' || !o.name) usage('bad --name');
}

/** Server arguments: --port P (0 picks a free port), --name N (default: the script's name), `flags`. */
function serverArgs(script, flags = {}) {
  const common = { '--port': [ 'port', 'P', null, Number ], '--name': [ 'name', 'N', script ] };
  const { o, usage } = parseArgs(script, '--port P [--name N]', common, flags);
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) usage('bad or missing --port');
  checkName(o, usage);
  return o;
}

/**
 * Client arguments: --target HOST:PORT, --name N (default `name`), --deadline MS (default 10000),
 * `flags`; check(o, usage) then validates those and may fill in a default --name.
 */
function clientArgs(script, { name = null, flags = {}, check = () => {} }) {
  const common = {
    '--target': [ 'target', 'HOST:PORT', null ], '--name': [ 'name', 'N', name ], '--deadline': [ 'deadline', 'MS', 10000, Number ],
  };
  const { o, usage } = parseArgs(script, '--target HOST:PORT [--name N] [--deadline MS]', common, flags);
  const m = /^([^:]+):(\d+)$/.exec(o.target || '');
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) usage('bad or missing --target HOST:PORT');
  if (!Number.isInteger(o.deadline) || o.deadline <= 0) usage('bad --deadline');
  check(o, usage);
  checkName(o, usage);
  return o;
}

// ------------------------------------------------------------------------------ logs and exits

/** A logger for the libraries: stderr only ("[label level] ..."), debug/info only when verbose. */
function stderrLogger(label, verbose) {
  const out = level => (...args) => process.stderr.write(`[${label} ${level}] ${util.format(...args)}\n`);
  const quiet = () => {};
  return { debug: verbose ? out('debug') : quiet, info: verbose ? out('info') : quiet, warn: out('warn'), error: out('error') };
}

const errorText = err => (err && err.stack) || err;

/** Exit 1 with a line on stderr on an uncaught exception (and, unless told otherwise, rejection). */
function exitOnCrash(label, { rejections = true } = {}) {
  const crash = what => err => {
    process.stderr.write(`${label}: ${what}: ${errorText(err)}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', crash('uncaught exception'));
  if (rejections) process.on('unhandledRejection', crash('unhandled rejection'));
}

/** A server's one and only stdout line. */
function printReady(port) {
  process.stdout.write(`READY ${port}\n`);
}

function onStop(stop) {
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/**
 * A client run: its start time, the labels of the calls still pending, and finish(summary), which
 * prints the one JSON line (at most 10 failures; all of them on stderr) and exits 0 if ok, else 1.
 * Set up at once: the --deadline timer (ok:false with what is pending) and the crash handlers.
 */
function clientRun(label, deadline) {
  const started = Date.now();
  const pending = new Set();
  const elapsedMs = () => Date.now() - started;
  function finish(summary) {
    if (!summary.ok) {
      process.stderr.write(label + ' FAILED: ' + summary.error + '\n');
      for (const f of summary.failures || []) process.stderr.write('  ' + JSON.stringify(f) + '\n');
      if (summary.failures && summary.failures.length > 10) {
        summary.failures = summary.failures.slice(0, 10).concat([ { more: summary.failures.length - 10 } ]);
      }
    }
    // exit once stdout is flushed; the libraries' timers (heartbeats) would keep the process alive
    process.stdout.write(JSON.stringify(summary) + '\n', () => process.exit(summary.ok ? 0 : 1));
  }
  const timer = setTimeout(() => {
    finish({ ok: false, error: `deadline of ${deadline} ms exceeded`, pending: [ ...pending ], elapsedMs: elapsedMs() });
  }, deadline);
  process.on('uncaughtException', err => finish({ ok: false, error: 'uncaught exception: ' + errorText(err) }));
  process.on('unhandledRejection', err => finish({ ok: false, error: 'unhandled rejection: ' + errorText(err) }));
  return {
    pending,
    elapsedMs,
    finish,
    stopDeadline: () => clearTimeout(timer),
    /** Runs main(); a throw ends the run with ok:false. */
    main: main => main().catch(err => finish({
      ok: false, error: (err && err.name ? err.name + ': ' : '') + ((err && err.message) || err), elapsedMs: elapsedMs(),
    })),
  };
}

// ------------------------------------------------------------------------------ EchoService

const int = n => ({ $class: 'int', $: n }); // a js-to-java int is truthy, so 0 is not sent as null
const hashMap = o => ({ $class: 'java.util.HashMap', $: o });

/**
 * The scenario's com.example.EchoService, answering as server `name`: the library adapters wrap
 * these (and count stats.requests). stats() returns `name` and every counter of `stats` as ints.
 */
function echoService(name, stats) {
  return {
    echo: s => name + ':' + s,
    add: (a, b) => int(a + b),
    async delayEcho(s, ms) {
      await new Promise(resolve => setTimeout(resolve, Math.max(0, Math.min(Number(ms) || 0, 10000))));
      return name + ':' + s;
    },
    info: s => hashMap({ name, len: int(String(s).length), arg: s }),
    fail(s) {
      const err = new Error('fail: ' + s);
      err.ignoreLog = true; // expected: sofa-rpc-node need not log it
      throw err;
    },
    stats: () => {
      const counters = {};
      for (const [ k, v ] of Object.entries(stats)) counters[k] = int(v);
      return hashMap(Object.assign({ name }, counters));
    },
  };
}

// ------------------------------------------------------------------------------ the scenario

const S = s => ({ $class: 'java.lang.String', $: s });
const I = n => ({ $class: 'int', $: n });
const INT = n => ({ $class: 'java.lang.Integer', $: n });

const BIG_ASCII = 'a'.repeat(65536); // hessian.js splits it into two 32768-char chunks
const BIG_UNICODE = '你好，世界🚀🎉'.repeat(65536 / 9); // 9 UTF-16 units per repeat: 65529 units, 152 KiB as UTF-8
const BIG_CHINESE = '你好，世界'.repeat(4400); // 22000 chars, 66000 bytes of UTF-8: one unchunked string

/**
 * The calls of the scenario and what each must return from the server named `name`. `peers` says
 * what both ends can carry: `full` (emoji, strings over 32768 chars, the whole int range) or not
 * (a dubbo-py end: see README); `int` writes an int argument; `extra` are the client's own calls,
 * issued before the final fail().
 */
function scenario(name, { full, int: intArg, extra = [] }) {
  const calls = [];
  const echo = (label, s) => calls.push({ label, method: 'echo', args: [ S(s) ], expect: name + ':' + s });
  for (let i = 0; i < 20; i++) echo('ascii-' + i, 'hello-' + i);
  echo('chinese', '你好，世界');
  echo('empty', '');
  if (full) {
    echo('emoji', '🚀🎉');
    echo('mixed', 'mixed ascii, 中文 and emoji 🚀🎉 and é');
    echo('big-ascii-64KiB', BIG_ASCII);
    echo('big-unicode-64KiB', BIG_UNICODE);
  } else {
    echo('mixed-bmp', 'mixed ascii, 中文 and é');
    echo('big-ascii-32KiB', BIG_ASCII.slice(0, 32768)); // the longest string hessian.js writes unchunked
  }
  const adds = [[ 1, 2 ], [ -5, 3 ], [ 0, 0 ], [ 40000, 2 ], [ 123, 456 ], [ 7, -7 ], [ 100000, 23 ], [ 31, 11 ]];
  if (full) adds.push([ 2147483000, 600 ], [ -2147483000, -600 ]);
  adds.forEach(([ a, b ], i) => calls.push({ label: 'add-' + i, method: 'add', args: [ intArg(a), intArg(b) ], expect: a + b }));
  // delays decreasing with the index: a node server answers these in reverse order
  for (let i = 0; i < 10; i++) {
    const s = 'delayed-' + i + (full ? '-你好🚀' : '-你好');
    calls.push({ label: 'delayEcho-' + i, method: 'delayEcho', args: [ S(s), I(20 * (10 - i)) ], expect: name + ':' + s });
  }
  const info = (label, arg) => calls.push({ label, method: 'info', args: [ S(arg) ], expect: { name, len: arg.length, arg } });
  info('info-unicode', full ? '你好🚀' : '你好');
  info('info-big', full ? BIG_UNICODE : BIG_CHINESE);
  calls.push(...extra);
  const boom = full ? 'boom 💥' : 'boom';
  calls.push({ label: 'fail', method: 'fail', args: [ S(boom) ], expectError: new RegExp('fail: ' + boom) });
  return calls;
}

/** A value for a failure report: long strings cut short. */
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

const errorName = err => (err && err.name) + ': ' + String(err && err.message);

/** Checks one call's outcome (res, or err when it failed); adds what is wrong to `failures`. */
function checkReply(c, { res, err }, failures) {
  const wantError = 'an error matching ' + c.expectError;
  if (err) {
    if (!c.expectError || !c.expectError.test(String(err.message))) {
      failures.push({ call: c.label, want: c.expectError ? wantError : describe(c.expect), error: errorName(err) });
    }
  } else if (c.expectError) {
    failures.push({ call: c.label, want: wantError, got: describe(res) });
  } else if (!sameValue(res, c.expect)) {
    failures.push({ call: c.label, want: describe(c.expect), got: describe(res) });
  }
}

/**
 * Runs `calls` through invoke(call) -> Promise<{res, err}>: all at once (pipelined), then those
 * `oneByOne` picks in turn; then the server's stats(), which must give its --name `name`.
 * Returns { failures, server (the stats reply), calls (how many, stats included), delayedRepliesOutOfOrder }.
 */
async function runScenario(run, name, calls, invoke, oneByOne = () => false) {
  const failures = [];
  const replyOrder = [];
  const one = async c => {
    run.pending.add(c.label);
    const outcome = await invoke(c);
    run.pending.delete(c.label);
    replyOrder.push(c.label);
    checkReply(c, outcome, failures);
  };
  await Promise.all(calls.filter(c => !oneByOne(c)).map(one));
  for (const c of calls.filter(oneByOne)) await one(c);

  run.pending.add('stats');
  const { res: server, err } = await invoke({ label: 'stats', method: 'stats', args: [] });
  run.pending.delete('stats');
  if (err) failures.push({ call: 'stats', error: errorName(err) });
  else if (!server || server.name !== name) failures.push({ call: 'stats', want: 'name ' + name, got: describe(server) });
  const delayed = replyOrder.filter(l => l.startsWith('delayEcho-'));
  return { failures, server, calls: calls.length + 1, delayedRepliesOutOfOrder: delayed.join() !== delayed.slice().sort().join() };
}

/**
 * Checks one connection and pipelining, then finishes the run with the summary line:
 * ok, calls, failed, connections, writtenBeforeFirstReply, `wire`, delayedRepliesOutOfOrder,
 * `peer`, serverName, serverConnections, elapsedMs (then error and failures if any failed).
 */
function report(run, result, { connections, writtenBeforeFirstReply, wire = {}, peer = {} }) {
  const { failures, server } = result;
  if (connections !== 1) failures.push({ check: 'one connection', got: connections + ' connections opened' });
  if (!(writtenBeforeFirstReply > 1)) {
    failures.push({ check: 'pipelining', got: `${writtenBeforeFirstReply} request(s) on the wire before the first reply` });
  }
  run.stopDeadline();
  const summary = Object.assign({
    ok: failures.length === 0,
    calls: result.calls,
    failed: failures.length,
    connections,
    writtenBeforeFirstReply,
  }, wire, { delayedRepliesOutOfOrder: result.delayedRepliesOutOfOrder }, peer, {
    serverName: server && server.name,
    serverConnections: server && server.connections,
    elapsedMs: run.elapsedMs(),
  });
  if (failures.length) {
    summary.error = `${failures.length} check(s) failed, first: ${JSON.stringify(failures[0])}`;
    summary.failures = failures;
  }
  run.finish(summary);
}

// ------------------------------------------------------------------------------ apache-dubbo-service

// Direct mode: a registry that registers nothing (DubboService insists on one).
const NO_REGISTRY = {
  ready: () => Promise.resolve(),
  registerServices: () => Promise.resolve(),
  close() {},
};

/**
 * An apache-dubbo-service provider of `services` (interface version 1.0.0, group "") on
 * 127.0.0.1:`port` (0: a free one), no registry. It prints "READY <port>" once listening and
 * exits 0 on SIGTERM/SIGINT; a listen error exits 1. onConnection(socket) sees each accepted socket.
 */
function dubboLoopbackService({ label, iface, services, port, onConnection = () => {} }) {
  const { DubboService, dubboSetting } = require('apache-dubbo-service');
  const service = DubboService.from({
    registry: NO_REGISTRY,
    dubboSetting: dubboSetting.match(iface, { group: '', version: '1.0.0' }),
    services,
  });
  // DubboService.listen() picks a random port in 20888..30000 and binds every interface. Replace it
  // (before its nextTick fires) with a listen on 127.0.0.1:<port>; the socket handler, framing,
  // heartbeat and routing stay the library's own.
  service.listen = async () => {
    service.server = net.createServer(socket => {
      onConnection(socket);
      service.handleSocketRequest(socket);
    });
    service.server.on('error', err => {
      process.stderr.write(`${label}: listen failed: ${err.message}\n`);
      process.exit(1);
    });
    service.server.listen(port, '127.0.0.1', () => {
      service.port = service.server.address().port;
      service.registerServices();
    });
  };
  service.ready().then(() => printReady(service.port));
  onStop(() => {
    if (service.server) service.server.close();
    // Open consumer sockets (and their 60 s heartbeat timers) would keep the process alive.
    process.exit(0);
  });
  return service;
}

module.exports = {
  serverArgs,
  clientArgs,
  stderrLogger,
  exitOnCrash,
  printReady,
  onStop,
  clientRun,
  echoService,
  S,
  I,
  INT,
  BIG_CHINESE,
  scenario,
  runScenario,
  report,
  dubboLoopbackService,
};
