// A real Thrift client (npm `thrift`, framed transport, binary protocol) for
// xprotocol's Rust interop tests: connects to 127.0.0.1:<port>, makes the calls
// below one after the other and prints one tab-separated line per call:
//
//   <method>\tok\t<value>
//   <method>\terror\t<error name>\t<TApplicationException type>\t<message>
//
// Calls: echo(<text>), add(2, 40), notify("fire and forget") (oneway), ping().
// Modes: strict (TBinaryProtocol, the default), nonstrict (strictWrite off:
// no version word), multiplexed (TMultiplexedProtocol, service "Echo").
// Exits 0 when every call has an answer, 2 on a 10 s timeout or a connection error.
//
//   node interop/thrift-client.js <port> [strict|nonstrict|multiplexed] [echo text]
"use strict";

const thrift = require("thrift");
const { Client } = require("./thrift-echo");

const [port, mode = "strict", text = "héllo, 世界"] = process.argv.slice(2);

function NonStrictBinary(trans) {
  thrift.TBinaryProtocol.call(this, trans, false, false);
}
require("util").inherits(NonStrictBinary, thrift.TBinaryProtocol);

const connection = thrift.createConnection("127.0.0.1", Number(port), {
  transport: thrift.TFramedTransport,
  protocol: mode === "nonstrict" ? NonStrictBinary : thrift.TBinaryProtocol,
  max_attempts: 1,
  connect_timeout: 5000,
});
const timer = setTimeout(() => {
  process.stdout.write("timeout\n");
  process.exit(2);
}, 10000);
connection.on("error", (e) => {
  process.stdout.write(`connection\terror\t${e && e.message}\n`);
  process.exit(2);
});

const client =
  mode === "multiplexed"
    ? new thrift.Multiplexer().createClient("Echo", Client, connection)
    : thrift.createClient(Client, connection);

const call = (name, ...args) =>
  new Promise((resolve) =>
    client[name](...args, (err, value) => {
      const line = err
        ? [name, "error", err.name, err.type, err.message]
        : [name, "ok", value === undefined ? "" : value];
      process.stdout.write(line.join("\t") + "\n");
      resolve();
    }),
  );

connection.on("connect", async () => {
  await call("echo", text);
  await call("add", 2, 40);
  await call("notify", "fire and forget");
  await call("ping");
  // The test closes its side next; the timer stays armed as the bound, but
  // no longer keeps the process alive on its own.
  timer.unref();
  connection.end();
});
