#!/usr/bin/env python3
"""Real dubbo-py 0.2.2 (module `dubbo`) server and client for the sidecar scenario.

  .venv/bin/python dubbo-py-mesh.py server --port P [--name N]
  .venv/bin/python dubbo-py-mesh.py client --target HOST:PORT [--name N] [--deadline MS]
                                          [--server-kind py|node] [--dubbo-version V]

server: prints exactly "READY <port>" on stdout once listening (--port 0 picks a free port),
nothing else on stdout; SIGTERM/SIGINT stop it with exit code 0. It serves
com.example.EchoService (dubbo-py routes on the body's service path + method only; the version
and group are ignored) with
  echo(s) -> N + ":" + s      add(a, b) -> a + b        delayEcho(s, ms) -> N + ":" + s after ms
  info(s) -> {"name": N, "len": <UTF-16 length of s>, "arg": s}
  fail(s) -> raises RuntimeError("fail: " + s): status 90 + the message as a hessian string
  stats() -> {"name": N, "connections": <accepted>, "requests": <served>}
It is dubbo_py_common.serve(): dubbo-py's own _DubboServer + request handler, bound to 127.0.0.1
(dubbo-py's DubboService() binds 0.0.0.0 and looks up a public IP through a UDP socket).

client: dubbo-py's DubboClient (one TCP connection, dubbo version 2.5.3 by default). The
library's API sends one request and waits for "the next reply" (it matches by arrival order), so
this script pipelines with the library's own pieces: it encodes every request with
dubbo.codec.hessian2.DubboRequest, writes them back to back on the client's socket, and takes the
replies that the library's receive thread decodes, matching them by id. Phase 1 pipelines the
small calls; phase 2 sends the 64 KiB calls one at a time (dubbo-py's Decoder._read asks recv()
for the whole remaining length again after a short read, so a large frame followed by more
pipelined bytes can swallow the start of the next frame; see README). Checked: every reply
exactly, one connection, more than one request on the wire before the first reply.
--server-kind node (apache-dubbo-service, dubbo-mesh-server.js) changes two expectations: fail()
comes back as status 20 with body flag 0, which dubbo-py returns as an ok *value*
"fail: boom", and replies longer than 32768 chars are avoided (hessian.js splits them into 'R'
chunks, which dubbo-py misreads). No emoji anywhere: dubbo-py writes non-BMP characters as 4-byte
UTF-8 (a length in code points) and cannot read them in any form (see README).
Success: one JSON line {"ok": true, "calls": N, ...} on stdout, exit 0; failure: one JSON line
{"ok": false, "error": ..., "failures": [...]} on stdout, details on stderr, exit 1; exit 2 for
bad arguments. --deadline (ms, default 10000) bounds the whole run.
"""
import json
import logging
import os
import queue
import socket
import sys
import threading
import time

from dubbo.client import DubboClient
from dubbo.codec.hessian2 import DubboRequest
from dubbo.java_class import JavaString

from dubbo_py_common import parse_options, serve, setup_logging

SERVICE = 'com.example.EchoService'


def fix_short_reads():
    """--fix-short-reads: dubbo-py's Decoder._read(length) loops on recv(length) instead of
    recv(length - received), so when a frame arrives in more than one TCP read and more bytes
    follow, it swallows the start of the next frame and the connection desyncs (both the server
    and the client's receive thread). This replaces that one method with the same loop asking
    only for what is missing; encoding and decoding are otherwise dubbo-py's own."""
    from dubbo.codec import hessian2

    def _read(self, length):
        read_func = hasattr(self._stream, 'recv') and self._stream.recv or self._stream.read
        received = b''
        while len(received) < length:
            chunk = read_func(length - len(received))
            if not chunk:
                raise EOFError
            received += chunk
        return received

    hessian2.Decoder._read = _read
# dubbo-py derives the JVM descriptor from the Python type name: these give Ljava/lang/Integer;
# and Ljava/lang/String; (a plain int gives I, a plain str gives S = short).
JavaInteger = type('java.lang.Integer', (int,), {})


def utf16_len(s):
    return len(s.encode('utf-16-le')) // 2


def out(obj):
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + '\n')
    sys.stdout.flush()


# ----------------------------------------------------------------------------- server

def server(port, name):
    stats = {'connections': 0, 'requests': 0}
    lock = threading.Lock()

    def count():
        with lock:
            stats['requests'] += 1

    def echo(s):
        count()
        return name + ':' + s

    def add(a, b):
        count()
        return int(a) + int(b)

    def delay_echo(s, ms):
        count()
        time.sleep(max(0, min(int(ms), 10000)) / 1000.0)
        return name + ':' + s

    def info(s):
        count()
        return {'name': name, 'len': utf16_len(s), 'arg': s}

    def fail(s):
        count()
        raise RuntimeError('fail: ' + str(s))

    def get_stats():
        return {'name': name, 'connections': stats['connections'], 'requests': stats['requests']}

    def accepted():
        with lock:
            stats['connections'] += 1

    return serve(port, {SERVICE: {
        'echo': echo, 'add': add, 'delayEcho': delay_echo, 'info': info, 'fail': fail, 'stats': get_stats,
    }}, 'dubbo-py-mesh server', on_connection=accepted)


# ----------------------------------------------------------------------------- client

_CLOSED = object()  # put on the reply queue when the library's receive thread ends


class MeshDubboClient(DubboClient):
    """dubbo-py's DubboClient; tells the waiting caller when its receive thread has ended (EOF or a
    reply it could not decode) instead of leaving it to the deadline."""

    def _recv_loop(self):
        try:
            super()._recv_loop()
        finally:
            self._msg_queue.put(_CLOSED)


class RecordingQueue(queue.Queue):
    """The client's reply queue; remembers how many requests were on the wire at the first reply."""

    def __init__(self, sent):
        super().__init__()
        self.sent = sent
        self.sent_at_first_reply = None

    def put(self, item, *args, **kwargs):
        if self.sent_at_first_reply is None and item is not _CLOSED:
            self.sent_at_first_reply = self.sent[0]
        super().put(item, *args, **kwargs)


def scenario(name, kind):
    small, big = [], []

    def echo(label, s, into=small):
        into.append({'label': label, 'method': 'echo', 'args': [JavaString(s)], 'expect': name + ':' + s})

    for i in range(20):
        echo('ascii-%d' % i, 'hello-%d' % i)
    echo('chinese', '你好，世界')
    echo('mixed-bmp', 'mixed ascii, 中文 and é')
    echo('empty', '')
    for i, (a, b) in enumerate([(1, 2), (-5, 3), (0, 0), (40000, 2), (123, 456), (7, -7), (100000, 23), (31, 11)]):
        # dubbo-py writes ints above 0x3ffff as 'I' + 4 bytes but cannot read that form back
        small.append({'label': 'add-%d' % i, 'method': 'add', 'args': [JavaInteger(a), JavaInteger(b)], 'expect': a + b})
    for i in range(10):
        s = 'delayed-%d-你好' % i
        small.append({'label': 'delayEcho-%d' % i, 'method': 'delayEcho', 'args': [JavaString(s), 20 * (10 - i)],
                      'expect': name + ':' + s})
    small.append({'label': 'info-unicode', 'method': 'info', 'args': [JavaString('你好')],
                  'expect': {'name': name, 'len': 2, 'arg': '你好'}})
    if kind == 'py':
        small.append({'label': 'fail', 'method': 'fail', 'args': [JavaString('boom')], 'expect_error': (90, 'fail: boom')})
    else:
        small.append({'label': 'fail', 'method': 'fail', 'args': [JavaString('boom')], 'expect': 'fail: boom'})
    big_chinese = '你好，世界' * 4400  # 22000 chars = 66000 bytes of UTF-8: one 'S' chunk either way
    echo('big-chinese-64KiB', big_chinese, big)
    big.append({'label': 'info-big-chinese', 'method': 'info', 'args': [JavaString(big_chinese)],
                'expect': {'name': name, 'len': 22000, 'arg': big_chinese}})
    if kind == 'py':
        # 65500 ASCII chars (a 64 KiB body); the reply stays <= 65535 chars, the most dubbo-py can
        # write ('S' + a 2-byte length). A node server would split it into 'R' chunks.
        echo('big-ascii-64KiB', 'a' * 65500, big)
    return small, big


def describe(v):
    if isinstance(v, str) and len(v) > 80:
        return '<string of %d chars: %r...>' % (len(v), v[:40])
    if isinstance(v, dict):
        return '{' + ', '.join('%r: %s' % (k, describe(x)) for k, x in v.items()) + '}'
    return repr(v)


def check(call, resp, failures):
    if 'expect_error' in call:
        status, message = call['expect_error']
        if resp.ok or resp.status != status or resp.error != message:
            failures.append({'call': call['label'], 'want': 'status %d error %r' % (status, message),
                             'got': 'status %s data %s error %s' % (resp.status, describe(resp.data), describe(resp.error))})
    elif not resp.ok:
        failures.append({'call': call['label'], 'want': describe(call['expect']),
                         'got': 'status %s error %s' % (resp.status, describe(resp.error))})
    elif resp.data != call['expect'] or type(resp.data) is not type(call['expect']):
        failures.append({'call': call['label'], 'want': describe(call['expect']), 'got': describe(resp.data)})


def client(target, name, deadline_ms, kind, dubbo_version):
    started = time.time()
    state = {'pending': []}
    finished = threading.Lock()

    def finish(summary):
        if not finished.acquire(blocking=False):
            return
        summary.setdefault('elapsedMs', int((time.time() - started) * 1000))
        if not summary['ok']:
            sys.stderr.write('dubbo-py-mesh client FAILED: %s\n' % summary['error'])
            for f in summary.get('failures', []):
                sys.stderr.write('  %s\n' % json.dumps(f, ensure_ascii=False))
            if len(summary.get('failures', [])) > 10:
                summary['failures'] = summary['failures'][:10] + [{'more': len(summary['failures']) - 10}]
        out(summary)
        sys.stderr.flush()
        os._exit(0 if summary['ok'] else 1)  # the library's threads (recv, heartbeat) never end

    def on_deadline():
        finish({'ok': False, 'error': 'deadline of %d ms exceeded' % deadline_ms, 'pending': list(state['pending'])})

    timer = threading.Timer(deadline_ms / 1000.0, on_deadline)
    timer.daemon = True
    timer.start()

    host, port = target.rsplit(':', 1)
    sockets = []
    real_socket = socket.socket

    class CountingSocket(real_socket):
        def connect(self, *args):
            sockets.append(self)
            return super().connect(*args)

    socket.socket = CountingSocket  # DubboClient creates its socket through socket.socket
    try:
        c = MeshDubboClient(host, int(port), dubbo_version=dubbo_version)
    except OSError as e:
        finish({'ok': False, 'error': 'could not connect to %s: %s' % (target, e)})
    finally:
        socket.socket = real_socket
    sent = [0]
    replies = RecordingQueue(sent)
    c._msg_queue = replies  # before any request: the receive thread looks it up per message

    failures = []
    def run_batch(calls):
        """Writes every call back to back, then collects the replies by id; returns label -> reply, in arrival order."""
        by_id = {}
        frames = []
        for call in calls:
            req_id = next(c._request_id)
            by_id[req_id] = call
            frames.append(DubboRequest(id=req_id, twoway=True, dubbo_version=dubbo_version, service_name=SERVICE,
                                       service_version='1.0.0', method_name=call['method'], args=call['args'],
                                       attachment={'x-mesh-test': 'py-mesh'}).encode())
        # One write for the whole batch: per-frame sendall() calls from Python are slow enough that
        # the receive thread would often see reply 1 before request 2 is written.
        sent[0] += len(frames)
        try:
            c._sock.sendall(b''.join(frames))
        except OSError as e:
            finish({'ok': False, 'error': 'connection to %s failed while writing %d request(s): %s' % (target, len(frames), e),
                    'pending': [x['label'] for x in calls]})
        state['pending'] = [call['label'] for call in calls]
        got = {}
        while by_id:
            remaining = deadline_ms / 1000.0 - (time.time() - started)
            try:
                resp = replies.get(True, max(0.01, remaining))
            except queue.Empty:
                time.sleep(1)  # the deadline timer reports it
                continue
            if resp is _CLOSED:
                finish({'ok': False, 'error': 'connection to %s closed (or a reply could not be decoded: see stderr) '
                        'with %d call(s) pending' % (target, len(by_id)), 'pending': list(state['pending'])})
            call = by_id.pop(resp.id, None)
            if call is None:
                failures.append({'check': 'reply ids', 'got': 'a reply with unexpected id %r' % resp.id})
                continue
            state['pending'].remove(call['label'])
            got[call['label']] = resp
            if 'expect' in call or 'expect_error' in call:
                check(call, resp, failures)
        return got

    small, big = scenario(name, kind)
    order = list(run_batch(small))
    written_before_first_reply = replies.sent_at_first_reply
    for call in big:
        run_batch([call])
    stats = run_batch([{'label': 'stats', 'method': 'stats', 'args': []}])['stats']
    server_stats = {}
    if not stats.ok or not isinstance(stats.data, dict) or stats.data.get('name') != name:
        failures.append({'call': 'stats', 'want': 'name %s' % name,
                         'got': 'status %s data %s error %s' % (stats.status, describe(stats.data), describe(stats.error))})
    else:
        server_stats = {'serverName': stats.data.get('name'), 'serverConnections': stats.data.get('connections')}
    delayed = [label for label in order if label.startswith('delayEcho-')]
    timer.cancel()
    summary = {
        'ok': True,
        'calls': len(small) + len(big) + 1,
        'failed': 0,
        'connections': len(sockets),
        'writtenBeforeFirstReply': written_before_first_reply,
        'delayedRepliesOutOfOrder': delayed != sorted(delayed),
        'dubboVersion': dubbo_version,
        'serverKind': kind,
    }
    summary.update(server_stats)
    if len(sockets) != 1:
        failures.append({'check': 'one connection', 'got': '%d connections opened' % len(sockets)})
    if not (written_before_first_reply and written_before_first_reply > 1):
        failures.append({'check': 'pipelining', 'got': '%s request(s) on the wire before the first reply' % written_before_first_reply})
    if failures:
        summary.update({'ok': False, 'failed': len(failures), 'failures': failures,
                        'error': '%d check(s) failed, first: %s' % (len(failures), json.dumps(failures[0], ensure_ascii=False))})
    finish(summary)


def main(argv):
    setup_logging()
    usage = ('usage: dubbo-py-mesh.py server --port P [--name N] [--fix-short-reads]\n'
             '       dubbo-py-mesh.py client --target HOST:PORT [--name N] [--deadline MS] [--server-kind py|node]\n'
             '                               [--dubbo-version V] [--fix-short-reads]\n')
    if not argv or argv[0] not in ('server', 'client'):
        sys.stderr.write(usage)
        return 2
    mode = argv[0]
    opts = {'--port': None, '--target': None, '--name': None, '--deadline': '10000',
            '--server-kind': 'py', '--dubbo-version': '2.5.3'}
    rest = argv[1:]
    if '--fix-short-reads' in rest:
        rest.remove('--fix-short-reads')
        fix_short_reads()
    bad = parse_options(rest, opts)
    if bad is not None:
        sys.stderr.write('unknown or incomplete argument: %s\n%s' % (bad, usage))
        return 2
    if mode == 'server':
        if opts['--port'] is None or not opts['--port'].isdigit() or int(opts['--port']) > 65535:
            sys.stderr.write('bad or missing --port\n' + usage)
            return 2
        return server(int(opts['--port']), opts['--name'] or 'dubbo-py-mesh')
    target = opts['--target'] or ''
    host, _, port = target.rpartition(':')
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        sys.stderr.write('bad or missing --target HOST:PORT\n' + usage)
        return 2
    if not opts['--deadline'].isdigit() or int(opts['--deadline']) <= 0:
        sys.stderr.write('bad --deadline\n' + usage)
        return 2
    kind = opts['--server-kind']
    if kind not in ('py', 'node'):
        sys.stderr.write('bad --server-kind\n' + usage)
        return 2
    name = opts['--name'] or ('dubbo-py-mesh' if kind == 'py' else 'dubbo-mesh-server')
    try:
        client(target, name, int(opts['--deadline']), kind, opts['--dubbo-version'])
    except Exception as e:  # a bug here or in the library: still one JSON line and exit 1
        logging.exception('dubbo-py-mesh client')
        out({'ok': False, 'error': '%s: %s' % (type(e).__name__, e)})
        sys.stderr.flush()
        os._exit(1)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
