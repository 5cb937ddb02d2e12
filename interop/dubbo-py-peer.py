#!/usr/bin/env python3
"""Real dubbo-py 0.2.2 (module `dubbo`) provider and consumer for xprotocol's interop tests.

  .venv/bin/python dubbo-py-peer.py provider PORT   -> prints "READY <port>"; SIGTERM/SIGINT stops it
  .venv/bin/python dubbo-py-peer.py consumer PORT [--dubbo-version V] [--timeout S] < calls.json

Provider: com.example.acceptance.DemoService with echo(s) -> s, sayHello(s) -> "hello " + s,
big(n) -> "x" * n, fail(s) -> raises (dubbo-py answers status 90). dubbo-py routes on the body's
path + method only (no version/group check). It is dubbo_py_common.serve(): dubbo-py's own server
classes bound to 127.0.0.1 only.

Consumer: stdin [{"method":"echo","args":["hi"],"attachments":{"k":"v"},"version":"1.0.0"}],
stdout [{"ok":true,"value":...,"id":N} | {"ok":false,"error":"...","status":N,"id":N}].
dubbo-py's DubboClient matches replies by arrival order, not by id, so calls run one after the
other; after a timeout the client is replaced by a fresh connection.
"""
import json
import queue
import sys

from dubbo.client import DubboClient

from dubbo_py_common import parse_options, serve, setup_logging

SERVICE = 'com.example.acceptance.DemoService'


def provider(port):
    def fail(s):
        raise RuntimeError('fail: ' + str(s))

    return serve(port, {SERVICE: {
        'echo': lambda s: s,
        'sayHello': lambda s: 'hello ' + s,
        'big': lambda n: 'x' * n,
        'fail': fail,
    }}, 'dubbo-py-peer provider')


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
    setup_logging()
    if len(argv) < 2 or argv[0] not in ('provider', 'consumer') or not argv[1].isdigit():
        sys.stderr.write(__doc__)
        return 2
    port = int(argv[1])
    if argv[0] == 'provider':
        return provider(port)
    opts = {'--dubbo-version': '2.5.3', '--timeout': '3'}
    bad = parse_options(argv[2:], opts)
    if bad is not None:
        sys.stderr.write('unknown argument: %s\n' % bad)
        return 2
    consumer(port, opts['--dubbo-version'], float(opts['--timeout']))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
