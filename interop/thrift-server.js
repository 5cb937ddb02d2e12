// A real Thrift server (npm `thrift`, framed transport, binary protocol) for
// xprotocol's Rust interop tests, on 127.0.0.1 only. Two listeners on ephemeral
// ports: the plain Echo service, and a TMultiplexedProcessor with Echo
// registered as "Echo". Prints `LISTENING <plain port> <multiplexed port>`,
// then serves until its stdin closes (the test drops it) or 60 s pass.
//
//   node interop/thrift-server.js
"use strict";

const thrift = require("thrift");
const { Processor } = require("./thrift-echo");

const notified = [];
const handler = {
  echo: (msg, cb) => cb(null, msg),
  ping: (cb) => cb(null),
  add: (a, b, cb) => cb(null, (a + b) | 0),
  notify: (msg, cb) => {
    notified.push(msg);
    cb(null);
  },
};
const options = {
  transport: thrift.TFramedTransport,
  protocol: thrift.TBinaryProtocol,
};

const plain = thrift.createServer(Processor, handler, options);
const mux = new thrift.MultiplexedProcessor();
mux.registerProcessor("Echo", new Processor(handler));
const multiplexed = thrift.createMultiplexServer(mux, options);

for (const server of [plain, multiplexed]) {
  server.on("error", (e) => process.stderr.write("server error: " + e + "\n"));
}

plain.listen(0, "127.0.0.1", () => {
  multiplexed.listen(0, "127.0.0.1", () => {
    process.stdout.write(
      `LISTENING ${plain.address().port} ${multiplexed.address().port}\n`,
    );
  });
});

const stop = (code) => {
  process.stderr.write(`notified: ${JSON.stringify(notified)}\n`);
  process.exit(code);
};
process.stdin.on("end", () => stop(0));
process.stdin.on("close", () => stop(0));
process.stdin.resume();
setTimeout(() => stop(3), 60000);
