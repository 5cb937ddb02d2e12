#!/usr/bin/env node
'use strict';

// Runs the sidecar-scenario peers directly, client -> server, on 127.0.0.1 (no sidecar), the way the
// Rust harness drives them: spawn the server with --port 0, wait for "READY <port>", run the client
// with --target 127.0.0.1:<port>, check its exit code and JSON summary, SIGTERM the server and check
// that it exits 0 promptly. Also checks that every client fails fast and clearly against bad peers.
//   node interop/mesh-check.js [--runs N] [--pairs a,b,..] [--fix-short-reads] [--bad-peers] [--deadline MS]
// pairs: sofa, sofa-bolt2, dubbo, dubbo-py, dubbo-py-to-node, dubbo-to-py (default: all six)
// --bad-peers: instead, run every client with --deadline MS (default 5000) against a port that
//   refuses, a peer that accepts and never answers, and a peer that closes at once; each client must
//   exit 1 with {"ok":false,...} in about the deadline or less.
// --fix-short-reads: pass --fix-short-reads to the dubbo-py server and client (see README).
// Exit 0 when everything passed; one line per run on stdout.

const path = require('path');
const net = require('net');
const { spawn } = require('child_process');

const DIR = __dirname;
const PY = path.join(DIR, '.venv', 'bin', 'python');

const SERVERS = {
  sofa: [ 'node', [ path.join(DIR, 'sofa-rpc-server.js') ] ],
  dubbo: [ 'node', [ path.join(DIR, 'dubbo-mesh-server.js') ] ],
  'dubbo-py': [ PY, [ path.join(DIR, 'dubbo-py-mesh.py'), 'server' ] ],
};
const CLIENTS = {
  sofa: [ 'node', [ path.join(DIR, 'sofa-rpc-client.js') ] ],
  dubbo: [ 'node', [ path.join(DIR, 'dubbo-mesh-client.js') ] ],
  'dubbo-py': [ PY, [ path.join(DIR, 'dubbo-py-mesh.py'), 'client' ] ],
};
// pair -> [server, client, extra client args]
const PAIRS = {
  sofa: [ 'sofa', 'sofa', [] ],
  'sofa-bolt2': [ 'sofa', 'sofa', [ '--bolt2' ] ],
  dubbo: [ 'dubbo', 'dubbo', [] ],
  'dubbo-py': [ 'dubbo-py', 'dubbo-py', [] ],
  'dubbo-py-to-node': [ 'dubbo', 'dubbo-py', [ '--server-kind', 'node' ] ],
  'dubbo-to-py': [ 'dubbo-py', 'dubbo', [ '--server-kind', 'py' ] ],
};

function parseArgs(argv) {
  const o = { runs: 1, pairs: Object.keys(PAIRS), badPeers: false, deadline: 5000, fixShortReads: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') o.runs = Number(argv[++i]);
    else if (argv[i] === '--pairs') o.pairs = argv[++i].split(',');
    else if (argv[i] === '--bad-peers') o.badPeers = true;
    else if (argv[i] === '--fix-short-reads') o.fixShortReads = true;
    else if (argv[i] === '--deadline') o.deadline = Number(argv[++i]);
    else throw new Error('unknown argument: ' + argv[i]);
  }
  for (const p of o.pairs) if (!PAIRS[p]) throw new Error('unknown pair: ' + p);
  return o;
}

function run(cmd, args, { timeoutMs }) {
  return new Promise(resolve => {
    const child = spawn(cmd, args, { stdio: [ 'ignore', 'pipe', 'pipe' ] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => { stdout += d; });
    child.stderr.on('data', d => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

let pyExtra = [];

function startServer(kind, name) {
  const [ cmd, baseArgs ] = SERVERS[kind];
  const args = kind === 'dubbo-py' ? [ ...baseArgs, ...pyExtra ] : baseArgs;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [ ...args, '--port', '0', '--name', name ], { stdio: [ 'ignore', 'pipe', 'pipe' ] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${kind} server: no READY in 10 s; stderr: ${err}`)); }, 10000);
    child.stderr.on('data', d => { err += d; });
    child.stdout.on('data', d => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      const m = /^READY (\d+)$/.exec(out.slice(0, nl));
      if (!m) { child.kill('SIGKILL'); reject(new Error(`${kind} server: first stdout line is not READY: ${JSON.stringify(out.slice(0, nl))}`)); return; }
      resolve({ child, port: Number(m[1]), stderr: () => err, extraStdout: () => out.slice(nl + 1) });
    });
    child.on('error', reject);
  });
}

function stopServer(server) {
  return new Promise(resolve => {
    const t0 = Date.now();
    if (server.child.exitCode !== null) { resolve({ code: server.child.exitCode, ms: 0, early: true }); return; }
    const timer = setTimeout(() => server.child.kill('SIGKILL'), 5000);
    server.child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, ms: Date.now() - t0 }); });
    server.child.kill('SIGTERM');
  });
}

async function checkPair(pair, i) {
  const [ serverKind, clientKind, extra ] = PAIRS[pair];
  const name = `${serverKind}-srv-${i}`;
  const server = await startServer(serverKind, name);
  const [ cmd, baseArgs ] = CLIENTS[clientKind];
  const args = clientKind === 'dubbo-py' ? [ ...baseArgs, ...pyExtra ] : baseArgs;
  const t0 = Date.now();
  const res = await run(cmd, [ ...args, '--target', `127.0.0.1:${server.port}`, '--name', name, ...extra ], { timeoutMs: 30000 });
  const ms = Date.now() - t0;
  const stop = await stopServer(server);
  const problems = [];
  let summary = null;
  const lines = res.stdout.trim().split('\n');
  try { summary = JSON.parse(lines[lines.length - 1]); } catch (e) { problems.push('client stdout is not one JSON line: ' + JSON.stringify(res.stdout.slice(0, 300))); }
  if (lines.length !== 1) problems.push(`client printed ${lines.length} stdout lines`);
  if (res.code !== 0) problems.push(`client exit ${res.code} ${res.signal || ''}`);
  if (summary && summary.ok !== true) problems.push('summary not ok');
  if (stop.code !== 0) problems.push(`server exit ${stop.code} ${stop.signal || ''} on SIGTERM${stop.early ? ' (had already exited)' : ''}`);
  if (stop.ms > 2000) problems.push(`server took ${stop.ms} ms to exit on SIGTERM`);
  if (server.extraStdout()) problems.push('server printed more on stdout: ' + JSON.stringify(server.extraStdout().slice(0, 200)));
  const ok = problems.length === 0;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${pair} run ${i} (${ms} ms, server stop ${stop.ms} ms) ${res.stdout.trim().slice(0, 400)}`);
  if (!ok) {
    console.log('  ' + problems.join('; '));
    if (res.stderr) console.log('  client stderr: ' + res.stderr.slice(0, 2000));
    if (server.stderr()) console.log('  server stderr: ' + server.stderr().slice(0, 2000));
  }
  return ok;
}

// Bad peers, on 127.0.0.1: a closed port, a peer that never answers, a peer that closes at once.
async function badPeers(deadline) {
  const refused = await new Promise(resolve => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
  const sockets = new Set();
  const silent = net.createServer(sock => { sockets.add(sock); sock.on('error', () => {}); sock.resume(); });
  const closer = net.createServer(sock => { sock.on('error', () => {}); sock.destroy(); });
  await new Promise(r => silent.listen(0, '127.0.0.1', r));
  await new Promise(r => closer.listen(0, '127.0.0.1', r));
  const peers = { refused, silent: silent.address().port, 'closes-at-once': closer.address().port };
  let allOk = true;
  for (const [ clientKind, [ cmd, args ] ] of Object.entries(CLIENTS)) {
    for (const [ peer, port ] of Object.entries(peers)) {
      const t0 = Date.now();
      const res = await run(cmd, [ ...args, '--target', `127.0.0.1:${port}`, '--deadline', String(deadline) ], { timeoutMs: deadline + 10000 });
      const ms = Date.now() - t0;
      let summary = null;
      try { summary = JSON.parse(res.stdout.trim()); } catch (e) { /* reported below */ }
      const ok = res.code === 1 && summary && summary.ok === false && ms <= deadline + 2500;
      allOk = allOk && ok;
      console.log(`${ok ? 'PASS' : 'FAIL'} bad peer ${peer} <- ${clientKind} client: exit ${res.code} after ${ms} ms: ${(summary && summary.error) || JSON.stringify(res.stdout.slice(0, 200))}`);
    }
  }
  for (const s of sockets) s.destroy();
  silent.close();
  closer.close();
  return allOk;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.fixShortReads) pyExtra = [ '--fix-short-reads' ];
  let ok = true;
  if (o.badPeers) {
    ok = await badPeers(o.deadline);
  } else {
    for (let i = 1; i <= o.runs; i++) {
      for (const pair of o.pairs) ok = (await checkPair(pair, i)) && ok;
    }
  }
  console.log(ok ? 'ALL PASSED' : 'SOME FAILED');
  process.exit(ok ? 0 : 1);
}

main().catch(e => { console.error(e.stack || e); process.exit(2); });
