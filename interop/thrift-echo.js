// A hand-written Thrift service for the interop tests, built on the runtime
// classes of the npm package `thrift` (pinned in package.json), with no code
// generator. It mirrors what the Thrift compiler emits for Node.js:
//
//   service Echo {
//     string echo(1: string msg),
//     void ping(),
//     i32 add(1: i32 a, 2: i32 b),
//     oneway void notify(1: string msg)
//   }
//
// Echo.Client works with thrift.createConnection / createClient / Multiplexer;
// Echo.Processor works with thrift.createServer / MultiplexedProcessor.
"use strict";

const thrift = require("thrift");

const { Type, MessageType, TApplicationException, TApplicationExceptionType } =
  thrift.Thrift;

function writeValue(output, type, value) {
  switch (type) {
    case Type.STRING:
      return output.writeString(value);
    case Type.I32:
      return output.writeI32(value);
    default:
      throw new Error("unsupported field type " + type);
  }
}

function readValue(input, type) {
  switch (type) {
    case Type.STRING:
      return input.readString();
    case Type.I32:
      return input.readI32();
    default:
      throw new Error("unsupported field type " + type);
  }
}

// A struct class from [{id, name, type}], with the generated read/write shape.
function struct(structName, fields) {
  function S(args) {
    for (const f of fields) {
      this[f.name] = args && args[f.name] !== undefined ? args[f.name] : null;
    }
  }
  S.prototype.write = function (output) {
    output.writeStructBegin(structName);
    for (const f of fields) {
      if (this[f.name] !== null && this[f.name] !== undefined) {
        output.writeFieldBegin(f.name, f.type, f.id);
        writeValue(output, f.type, this[f.name]);
        output.writeFieldEnd();
      }
    }
    output.writeFieldStop();
    output.writeStructEnd();
  };
  S.prototype.read = function (input) {
    input.readStructBegin();
    for (;;) {
      const r = input.readFieldBegin();
      if (r.ftype === Type.STOP) break;
      const f = fields.find((f) => f.id === r.fid && f.type === r.ftype);
      if (f) this[f.name] = readValue(input, f.type);
      else input.skip(r.ftype);
      input.readFieldEnd();
    }
    input.readStructEnd();
  };
  return S;
}

const METHODS = {
  echo: {
    params: [{ id: 1, name: "msg", type: Type.STRING }],
    result: Type.STRING,
  },
  ping: { params: [], result: null },
  add: {
    params: [
      { id: 1, name: "a", type: Type.I32 },
      { id: 2, name: "b", type: Type.I32 },
    ],
    result: Type.I32,
  },
  notify: {
    params: [{ id: 1, name: "msg", type: Type.STRING }],
    result: null,
    oneway: true,
  },
};

for (const [name, m] of Object.entries(METHODS)) {
  m.Args = struct("Echo_" + name + "_args", m.params);
  m.Result = struct(
    "Echo_" + name + "_result",
    m.result === null ? [] : [{ id: 0, name: "success", type: m.result }],
  );
}

function Client(output, pClass) {
  this.output = output;
  this.pClass = pClass;
  this._seqid = 0;
  this._reqs = {};
}
Client.prototype.seqid = function () {
  return this._seqid;
};
Client.prototype.new_seqid = function () {
  return (this._seqid += 1);
};

for (const [name, m] of Object.entries(METHODS)) {
  // client.echo(msg, callback): the generated callback style.
  Client.prototype[name] = function (...argv) {
    const callback = argv.pop();
    this._seqid = this.new_seqid();
    const args = {};
    m.params.forEach((p, i) => (args[p.name] = argv[i]));
    if (!m.oneway) this._reqs[this.seqid()] = callback;
    const output = new this.pClass(this.output);
    output.writeMessageBegin(
      name,
      m.oneway ? MessageType.ONEWAY : MessageType.CALL,
      this.seqid(),
    );
    new m.Args(args).write(output);
    output.writeMessageEnd();
    this.output.flush();
    if (m.oneway) callback(null);
  };
  // Called by thrift.Connection with the reply message.
  Client.prototype["recv_" + name] = function (input, mtype, rseqid) {
    const callback = this._reqs[rseqid] || function () {};
    delete this._reqs[rseqid];
    if (mtype === MessageType.EXCEPTION) {
      const x = new TApplicationException();
      x.read(input);
      input.readMessageEnd();
      return callback(x);
    }
    const result = new m.Result();
    result.read(input);
    input.readMessageEnd();
    if (m.result === null) return callback(null);
    if (result.success !== null) return callback(null, result.success);
    return callback(new Error(name + " failed: unknown result"));
  };
}

function Processor(handler) {
  this._handler = handler;
}
Processor.prototype.process = function (input, output) {
  const r = input.readMessageBegin();
  const m = Object.prototype.hasOwnProperty.call(METHODS, r.fname)
    ? METHODS[r.fname]
    : null;
  const reply = (type, body) => {
    output.writeMessageBegin(r.fname, type, r.rseqid);
    body.write(output);
    output.writeMessageEnd();
    output.flush();
  };
  if (m === null) {
    input.skip(Type.STRUCT);
    input.readMessageEnd();
    reply(
      MessageType.EXCEPTION,
      new TApplicationException(
        TApplicationExceptionType.UNKNOWN_METHOD,
        "Unknown function " + r.fname,
      ),
    );
    return;
  }
  const args = new m.Args();
  args.read(input);
  input.readMessageEnd();
  const values = m.params.map((p) => args[p.name]);
  this._handler[r.fname](...values, (err, value) => {
    if (m.oneway) return;
    if (err) {
      reply(
        MessageType.EXCEPTION,
        new TApplicationException(
          TApplicationExceptionType.INTERNAL_ERROR,
          String(err.message || err),
        ),
      );
    } else {
      reply(MessageType.REPLY, new m.Result({ success: value }));
    }
  });
};

module.exports = { Client, Processor, METHODS };
