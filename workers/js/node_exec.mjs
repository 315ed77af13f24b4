// node_exec.mjs runs a GOOS=js GOARCH=wasm program (a `go test` binary) under
// Node with the bridge's JavaScript half, so that bridge tests exercise both
// halves together:
//
//   GOOS=js GOARCH=wasm go test -exec "$PWD/workers/js/go_js_wasm_exec" ./workers/...
//
// The program runs as request 1 (WORKERS_TEST_REQUEST=1) and sees this env:
// vars, a JavaScript service PEER, the program itself as service SELF (its
// fetch handler, RPC methods and queue handler, through the runtime as workerd
// would call them) and as SLOWASK (slow to say that it takes callJSON),
// BADJSON and NEWERGO (see below), a recording fake D1 database DB, and a
// recording fake queue producer QUEUE. Sockets go through connect(), a stand-in for
// "cloudflare:sockets" over node:net, to three local servers whose addresses
// are in the env: ECHO_ADDR (echoes; answers a half-close with "bye" and
// closes), SILENT_ADDR (accepts and never answers), CLOSED_ADDR (nothing
// listens). Real D1, queues, sockets and workerd are tested end to end.
import { createRequire } from "node:module";
import net from "node:net";
import { Duplex } from "node:stream";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const require = createRequire(import.meta.url);
globalThis.require = require;
globalThis.fs = fs;
globalThis.path = path;

const goroot = process.env.GOROOT || execFileSync("go", ["env", "GOROOT"]).toString().trim();
require(path.join(goroot, "lib", "wasm", "wasm_exec.js"));
const { Runtime, JSON_RPC_VERSION } = await import("./runtime.mjs");

// connect has the shape of the Workers connect(): readable and writable web
// streams, an opened promise with the addresses, close().
function connect({ hostname, port }, { secureTransport = "off", allowHalfOpen = false } = {}) {
  if (secureTransport !== "off") throw new TypeError("the Node stand-in for connect() has no TLS");
  const sock = net.connect({ host: hostname, port, allowHalfOpen });
  const opened = new Promise((resolve, reject) => {
    sock.once("connect", () => resolve({
      remoteAddress: `${sock.remoteAddress}:${sock.remotePort}`, localAddress: `${sock.localAddress}:${sock.localPort}`,
    }));
    sock.once("error", (e) => reject(new Error(`proxy request failed, cannot connect to the specified address (${e.code})`)));
  });
  opened.catch(() => {});
  const { readable, writable } = Duplex.toWeb(sock);
  const closed = new Promise((resolve) => sock.once("close", resolve));
  return { readable, writable, opened, closed, close() { sock.destroy(); return closed; } };
}

function listen(onConn, opts = {}) {
  return new Promise((resolve) => {
    const srv = net.createServer(opts, onConn);
    srv.listen(0, "127.0.0.1", () => { srv.unref(); resolve(srv); });
  });
}
const addr = (srv) => `127.0.0.1:${srv.address().port}`;
const echo = await listen((c) => {
  c.on("data", (d) => c.write(d));
  c.on("end", () => c.end("bye"));
  c.on("error", () => {});
}, { allowHalfOpen: true });
const silent = await listen((c) => { c.on("error", () => {}); });
const closedSrv = await listen(() => {});
const closedAddr = addr(closedSrv);
await new Promise((resolve) => closedSrv.close(resolve));

const binary = process.argv[2];
const rt = new Runtime({ wasm: new WebAssembly.Module(fs.readFileSync(binary)), errorName: "TestError", connect, askAgainMs: 200 });

class PeerError extends Error {}

// PEER is a plain JavaScript RPC service.
const PEER = {
  echo: (...args) => args,
  undef: () => undefined,
  async slow(ms) { await sleep(ms); return ms; },
  fail(code, extra) {
    const e = new PeerError(`${code}: failed on purpose`);
    e.name = "PeerError";
    e.code = code;
    if (extra !== undefined) e.extra = extra;
    return Promise.reject(e);
  },
  throwSync() { throw new TypeError("thrown synchronously"); },
  throwString() { return Promise.reject("just a string"); },
  stats: () => rt.stats(),
  // callSelfJSON calls SELF.callJSON as another worker could: json is passed
  // as it is, or, with asBytes, as the UTF-8 bytes of the string json.
  callSelfJSON: (name, json, asBytes) => env.SELF.callJSON(name, asBytes ? new TextEncoder().encode(json) : json),
};

// DB records the statements it gets and answers from a scripted table.
const d1Log = [];
const DB = {
  prepare(sql) {
    const stmt = {
      sql, params: [],
      bind(...p) { stmt.params = p; return stmt; },
      async raw({ columnNames }) {
        d1Log.push({ sql, params: stmt.params });
        if (sql.startsWith("FAIL")) throw new Error("D1_ERROR: near \"FAIL\": syntax error: SQLITE_ERROR");
        if (sql.startsWith("ECHO")) {
          // one row whose columns are the parameters, as D1 returns them
          const cols = stmt.params.map((_, i) => `c${i}`);
          const row = stmt.params.map((p) => (p instanceof ArrayBuffer ? Array.from(new Uint8Array(p)) : p));
          return columnNames ? [cols, row] : [row];
        }
        if (sql.startsWith("EMPTY")) return columnNames ? [["a", "b"]] : [];
        if (sql.startsWith("LOG")) {
          const rows = d1Log.slice(0, -1).map((e) => [e.sql, JSON.stringify(e.params.map((p) => (p instanceof ArrayBuffer ? { blob: Array.from(new Uint8Array(p)) } : p)))]);
          d1Log.length = 0;
          return [["sql", "params"], ...rows];
        }
        return [["x"], [1]];
      },
      async run() {
        d1Log.push({ sql, params: stmt.params });
        if (sql.startsWith("FAIL")) throw new Error("D1_ERROR: no such table: nope: SQLITE_ERROR");
        return { success: true, meta: { changes: 2, last_row_id: 7 } };
      },
    };
    return stmt;
  },
  async batch(stmts) {
    for (const s of stmts) if (s.sql.startsWith("FAIL")) throw new Error("D1_ERROR: batch failed: SQLITE_ERROR");
    for (const s of stmts) d1Log.push({ sql: "BATCH " + s.sql, params: s.params });
    // A query's rows come back as objects, as D1's batch returns them.
    return stmts.map((s, i) => ({
      success: true,
      meta: { changes: s.sql.startsWith("ECHO") ? 0 : 1, last_row_id: 100 + i },
      results: s.sql.startsWith("ECHO") ? [Object.fromEntries(s.params.map((p, j) => [`c${j}`, p]))] : [],
    }));
  },
};

// QUEUE records what is sent to it, with the checks workerd makes itself;
// PEER.queueSent() returns the record and clears it.
const queueSent = [];
const QUEUE = {
  async send(body, options) {
    if (body === undefined) throw new TypeError("Message body cannot be undefined");
    queueSent.push({ method: "send", body, options });
  },
  async sendBatch(messages, options) {
    if (messages.length === 0) throw new TypeError("sendBatch() requires at least one message");
    queueSent.push({ method: "sendBatch", messages, options });
  },
};
PEER.queueSent = () => queueSent.splice(0);

// fakeBatch builds a MessageBatch from spec ({queue, messages: [{id, body,
// attempts, timestamp, bigint}]}; bigint: a body without a JSON form) whose
// ack, retry and retryAll calls are recorded as strings, by message id and
// under "batch".
function fakeBatch(spec) {
  const calls = { batch: [] };
  const messages = spec.messages.map((m) => {
    const log = (calls[m.id] = []);
    return {
      id: m.id, timestamp: new Date(m.timestamp), attempts: m.attempts, body: m.bigint ? 1n : m.body,
      ack() { log.push("ack"); },
      retry(options) { log.push(options === undefined ? "retry" : "retry " + JSON.stringify(options)); },
    };
  });
  const batch = {
    queue: spec.queue, messages,
    retryAll(options) { calls.batch.push(options === undefined ? "retryAll" : "retryAll " + JSON.stringify(options)); },
    ackAll() { calls.batch.push("ackAll"); },
  };
  return { batch, calls };
}

const env = { GREETING: "hello from env", ANSWER: 42, PEER, DB, QUEUE };
env.SELF = new Proxy({}, {
  get(_, prop) {
    if (prop === "fetch") return (url, init) => rt.fetch(new Request(url, init), env, { props: null });
    // queue(spec) delivers a fake batch and answers the calls the runtime made on it.
    if (prop === "queue") return async (spec) => {
      const { batch, calls } = fakeBatch(spec);
      await rt.queue(batch, env, { props: null });
      return calls;
    };
    // mN calls method N on the default entrypoint, mN@E on named entrypoint E;
    // sN (sN@E) calls it as a method marked //rpc:sync.
    const m = /^([ms])(\d+)(?:@(\d+))?$/.exec(String(prop));
    if (m) return (...args) => rt.call(Number(m[2]), args, env, { props: { serviceId: "node-test" } }, Number(m[3] ?? 0), m[1] === "s");
    // callJSON takes the same names, as a generated entry class does.
    if (prop === "callJSONVersion") return () => JSON_RPC_VERSION;
    if (prop === "callJSON") return (name, json) => {
      if (name === "queue") { // the test hook above, not a method of Go's: answered as callJSON answers
        return env.SELF.queue(...JSON.parse(new TextDecoder().decode(json))).then((v) => new TextEncoder().encode(JSON.stringify(v)));
      }
      const m = /^([ms])(\d+)(?:@(\d+))?$/.exec(String(name));
      const methods = new Map(m ? [[name, [Number(m[2]), m[1] === "s"]]] : []);
      return rt.callJSON(methods, name, json, env, { props: { serviceId: "node-test" } }, Number(m?.[3] ?? 0));
    };
    return undefined;
  },
});

// SLOWASK is SELF, except that the first callJSONVersion is never answered
// (as when the request that asked ends first).
let slowAsks = 0;
env.SLOWASK = new Proxy({}, {
  get(_, prop) {
    if (prop === "callJSONVersion") return () => (slowAsks++ === 0 ? new Promise(() => {}) : JSON_RPC_VERSION);
    return env.SELF[prop];
  },
});

// BADJSON says it takes callJSON and answers it with a string, not bytes;
// NEWERGO answers another version of callJSON, so it is called as any worker.
env.BADJSON = new Proxy({}, {
  get(_, prop) {
    if (prop === "callJSONVersion") return () => JSON_RPC_VERSION;
    if (prop === "callJSON") return () => "[1]";
    return env.SELF[prop];
  },
});
env.NEWERGO = new Proxy({}, {
  get(_, prop) { return prop === "callJSONVersion" ? () => JSON_RPC_VERSION + 1 : env.SELF[prop]; },
});

// Only what Go needs: wasm_exec has 8 KiB for argv and environment together.
const vars = { WORKERS_TEST_REQUEST: "1", ECHO_ADDR: addr(echo), SILENT_ADDR: addr(silent), CLOSED_ADDR: closedAddr };
for (const k of ["HOME", "PATH", "TMPDIR", "GOROOT", "GOCACHE", "GOPATH"]) if (process.env[k]) vars[k] = process.env[k];
vars.TMPDIR ??= require("node:os").tmpdir();

const code = await rt.runProgram({ argv: process.argv.slice(2), vars }, env);
process.exit(code);
