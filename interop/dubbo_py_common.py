"""What dubbo-py-peer.py and dubbo-py-mesh.py share: logging to stderr, `--flag value` options,
and a dubbo-py server on 127.0.0.1 that prints "READY <port>" and stops on SIGTERM/SIGINT."""
import logging
import signal
import sys
import threading

from dubbo.server import _DubboServer, _ServerThread, _get_dubbo_request_handler


def setup_logging():
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)


def parse_options(rest, opts):
    """Sets opts[flag] (every flag given a default in `opts`) from the `--flag value` pairs in
    `rest`; returns the first argument that is not such a flag or lacks its value, else None."""
    while rest:
        if rest[0] not in opts or len(rest) < 2:
            return rest[0]
        opts[rest[0]] = rest[1]
        rest = rest[2:]
    return None


def serve(port, services, label, on_connection=None):
    """Serves `services` ({service: {method: function}}) on 127.0.0.1:`port` (0: a free port) with
    dubbo-py's own server classes (_DubboServer + its request handler): dubbo-py's DubboService()
    binds 0.0.0.0 and looks up a public IP through a UDP socket. Prints exactly "READY <port>" on
    stdout once listening, serves until SIGTERM/SIGINT, and returns the exit code (1: the listen
    failed). on_connection() is called for each accepted connection."""
    handler = _get_dubbo_request_handler(services)
    if on_connection is not None:
        library_handler = handler

        class handler(library_handler):  # noqa: N801 (the request handler class the server gets)
            def __init__(self, *args):
                on_connection()
                super().__init__(*args)

    try:
        srv = _DubboServer(('127.0.0.1', port), handler)
    except OSError as e:
        sys.stderr.write('%s: listen on 127.0.0.1:%d failed: %s\n' % (label, port, e))
        return 1
    _ServerThread(srv).start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print('READY %d' % srv.server_address[1], flush=True)
    done.wait()
    # No srv.shutdown(): it waits up to serve_forever's 0.5 s poll. Closing the listener and
    # leaving ends the daemon threads (serve loop, connection handlers, heartbeats) at once.
    srv.server_close()
    return 0
