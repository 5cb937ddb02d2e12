#!/usr/bin/env python3
"""Real dubbo-py 0.2.2 (module `dubbo`) provider and consumer for xprotocol's interop tests.

  .venv/bin/python dubbo-py-peer.py provider PORT   -> prints "READY <port>"; SIGTERM/SIGINT stops it
  .venv/bin/python dubbo-py-peer.py consumer PORT [--dubbo-version V] [--timeout S] < calls.json

Provider: com.example.acceptance.DemoService with echo(s) -> s, sayHello(s) -> "hello " + s,
big(n) -> "x" * n, fail(s) -> raises (dubbo-py answers status 90). dubbo-py routes on the body's
path + method only (no version/group check). It is built from dubbo-py's own server classes
(_DubboServer + its request handler) because DubboService() binds 0.0.0.0 and looks up a
public IP; here it binds 127.0.0.1 only.

Consumer: stdin [{"method":"echo","args":["hi"],"attachments":{"k":"v"},"version":"1.0.0"}],
stdout [{"ok":true,"value":...,"id":N} | {"ok":false,"error":"...","status":N,"id":N}].
dubbo-py's DubboClient matches replies by arrival order, not by id, so calls run one after the
other; after a timeout the client is replaced by a fresh connection.
"""
import json
import logging
import queue
import signal
import sys
import threading

from dubbo.client import DubboClient
from dubbo.server import _DubboServer, _ServerThread, _get_dubbo_request_handler

SERVICE = 'com.example.acceptance.DemoService'


def provider(port):
    def fail(s):
        raise RuntimeError('fail: ' + str(s))

    services = {SERVICE: {
        'echo': lambda s: s,
        'sayHello': lambda s: 'hello ' + s,
        'big': lambda n: 'x' * n,
        'fail': fail,
    }}
    server = _ServerThread(_DubboServer(('127.0.0.1', port), _get_dubbo_request_handler(services)))
    server.start()
    print('READY %d' % port, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    server.server.shutdown()
    server.server.server_close()


def consumer(port, dubbo_version, timeout):
    calls = json.load(sys.stdin)
    DubboClient._timeout = timeout
    client = None
    results = []
    for c in calls:
        try:
            if client is None:
                client = DubboClient('127.0.0.1', port, dubbo_version=dubbo_version)
            resp = client.send_request_and_return_response(
                service_name=c.get('service', SERVICE),
                service_version=c.get('version', '1.0.0'),
                method_name=c['method'],
                args=c.get('args', []),
                attachment=c.get('attachments', {}))
            if resp.ok:
                results.append({'ok': True, 'value': resp.data, 'id': resp.id})
            else:
                results.append({'ok': False, 'error': resp.error, 'status': resp.status, 'id': resp.id})
        except queue.Empty:
            results.append({'ok': False, 'error': 'timeout after %ss (no reply)' % timeout})
            client = None  # later replies would be matched to the wrong call
        except Exception as e:  # connection refused/reset, encode errors
            results.append({'ok': False, 'error': '%s: %s' % (type(e).__name__, e)})
            client = None
    print(json.dumps(results, ensure_ascii=False, default=str), flush=True)


def main(argv):
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    if len(argv) < 2 or argv[0] not in ('provider', 'consumer') or not argv[1].isdigit():
        sys.stderr.write(__doc__)
        return 2
    port = int(argv[1])
    if argv[0] == 'provider':
        provider(port)
        return 0
    opts = {'--dubbo-version': '2.5.3', '--timeout': '3'}
    rest = argv[2:]
    while rest:
        if rest[0] not in opts or len(rest) < 2:
            sys.stderr.write('unknown argument: %s\n' % rest[0])
            return 2
        opts[rest[0]] = rest[1]
        rest = rest[2:]
    consumer(port, opts['--dubbo-version'], float(opts['--timeout']))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
