// The JavaScript half of the bridge between Go (GOOS=js GOARCH=wasm) and the
// Workers runtime; the Go half is package workers and workers/internal/bridge.
//
// One Go instance per isolate serves every event. Go never touches JavaScript
// that belongs to a request: a goroutine posts an operation (plain bytes) to
// its own request's mailbox, and that request's loop performs the I/O in the
// request's own context and hands the result back. Go's runtime timers are kept
// here and fired by whichever requests are alive. docs/bridge.md explains
// why ("Request contexts"); the numbers below must match bridge.go.

const KIND_FETCH = 1, KIND_RPC = 2, KIND_SCHEDULED = 3, KIND_QUEUE = 4;
const OP_RETURN = 1, OP_RESPOND = 2, OP_RESPOND_HEAD = 3, OP_BODY_WRITE = 4, OP_BODY_END = 5,
  OP_BODY_READ = 6, OP_RPC = 7, OP_FETCH = 8, OP_D1 = 9, OP_D1_BATCH = 10, OP_DONE = 11,
  OP_SOCK_OPEN = 12, OP_SOCK_READ = 13, OP_SOCK_WRITE = 14, OP_SOCK_CLOSE = 15, OP_STATS = 17, OP_PBKDF2 = 18;
const S_OK = 0, S_ERR = 1, S_EOF = 2;
const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);
const KEEPALIVE_MS = 20_000;
// YIELD_MS: how long operations may complete back to back, each result
// resuming Go at once, before one result waits for a pass through workerd's
// event loop (#async).
const YIELD_MS = 250;
const TIMER_SLACK_MS = 2;
// A request's loop looks for work other requests left it (#post) on a timer of
// its own: POLL_MIN_MS after it last found some, doubling to POLL_MAX_MS while
// it finds none, and every POLL_MAX_MS while an operation of its own is in
// flight (whose result performs its queue anyway). No other request's context
// ever wakes it (#wait says why).
const POLL_MIN_MS = 1, POLL_MAX_MS = 10;
// JSPI (WebAssembly.Suspending and promising) lets Go wait for an RPC call's
// answer inside the import that makes it, with no pause and resume of Go's
// scheduler (#callStart). Where the runtime lacks it (Node 20), every call
// takes the asynchronous path.
const JSPI = typeof WebAssembly.Suspending === "function" && typeof WebAssembly.promising === "function";
// What the import call_wait answers Go when the wait was released (bridge.go's
// waitReleased); any other answer is the reply's length times 4 plus its
// status.
const WAIT_RELEASED = -1;
// WAIT_MAX_MS: how long Go may wait inside call_wait before a turn of its
// request's loop releases the wait (#turn). While Go waits there, its other
// runnable goroutines wait too: this bounds for how long. A due Go timer (a
// caller's deadline) releases it at once (#fireTimers).
const WAIT_MAX_MS = 10;
// JSON_RPC_VERSION is what an entry class's callJSONVersion answers: the
// version of callJSON (see Runtime.callJSON).
export const JSON_RPC_VERSION = 1;
// What the runtime knows of a binding's worker (#peers): a Go worker of this
// runtime, which takes callJSON, or any other; while it is being asked, the
// entry is the time (Date.now()) the question was asked.
const PEER_GO = "go", PEER_OTHER = "other";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const noop = () => {};
const same = (v) => v;

// Writer and Reader are the wire format of workers/internal/wire.
class Writer {
  constructor(size = 256) { this.b = new Uint8Array(size); this.v = new DataView(this.b.buffer); this.n = 0; }
  reset() { this.n = 0; return this; }
  grow(k) {
    if (this.n + k <= this.b.length) return;
    const b = new Uint8Array(Math.max(this.b.length * 2, this.n + k));
    b.set(this.b.subarray(0, this.n));
    this.b = b; this.v = new DataView(b.buffer);
  }
  u8(x) { this.grow(1); this.b[this.n++] = x; }
  u32(x) { this.grow(4); this.v.setUint32(this.n, x, true); this.n += 4; }
  f64(x) { this.grow(8); this.v.setFloat64(this.n, x, true); this.n += 8; }
  bytes(u8) { this.u32(u8.length); this.grow(u8.length); this.b.set(u8, this.n); this.n += u8.length; }
  str(s) {
    this.grow(4 + s.length * 3);
    const at = this.n; this.n += 4;
    const { written } = encoder.encodeInto(s, this.b.subarray(this.n));
    this.v.setUint32(at, written, true); this.n += written;
  }
  raw(s) { this.grow(s.length * 3); this.n += encoder.encodeInto(s, this.b.subarray(this.n)).written; }
  rawBytes(u8) { this.grow(u8.length); this.b.set(u8, this.n); this.n += u8.length; }
  done() { return this.b.subarray(0, this.n); }
}

// scratch encodes what is copied into Go's memory at once (nothing in between
// may use it): an event's payload, a reply.
const scratch = new Writer(4096);

// ownBytes returns bytes that nothing else will overwrite: a copy if they are
// a view of the shared scratch buffer.
function ownBytes(bytes) {
  return bytes.buffer === scratch.b.buffer ? bytes.slice() : bytes;
}

class Reader {
  constructor(u8) { this.b = u8; this.v = null; this.i = 0; }
  u8() { return this.b[this.i++]; }
  u32() {
    const b = this.b, i = this.i;
    if (i + 4 > b.length) throw new RangeError("bridge: payload too short");
    this.i = i + 4;
    return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
  }
  f64() {
    this.v ??= new DataView(this.b.buffer, this.b.byteOffset, this.b.byteLength);
    const x = this.v.getFloat64(this.i, true); this.i += 8; return x;
  }
  bytes() { const n = this.u32(); const s = this.b.subarray(this.i, this.i + n); this.i += n; return s; }
  str() { return decoder.decode(this.bytes()); }
  rest() { const s = this.b.subarray(this.i); this.i = this.b.length; return s; }
}

function writeHeaders(w, headers) {
  const pairs = [];
  for (const [k, v] of headers) pairs.push(k, v);
  w.u32(pairs.length / 2);
  for (const s of pairs) w.str(s);
}

function readHeaders(r) {
  const h = new Headers();
  for (let n = r.u32(); n > 0; n--) h.append(r.str(), r.str());
  return h;
}

// An error crosses to Go as name, message and the JSON of its other own
// properties (code, sessionId, retryable, ...).
function encodeError(e) {
  const w = new Writer();
  const err = e instanceof Error || (e && typeof e === "object") ? e : { message: String(e) };
  w.str(String(err.name ?? "Error"));
  w.str(String(err.message ?? ""));
  const props = {};
  let any = false;
  for (const k of Object.keys(err)) {
    if (k === "name" || k === "message" || k === "stack") continue;
    props[k] = err[k]; any = true;
  }
  w.str(any ? safeJSON(props) : "");
  return w.done();
}

function safeJSON(v) {
  try { return JSON.stringify(v); } catch { return "{}"; }
}

// errorFromJSON builds the Error thrown to an RPC caller from what Go encoded.
function errorFromJSON(o) {
  const e = new Error(String(o.message ?? ""));
  e.name = String(o.name ?? "Error");
  for (const k of Object.keys(o)) if (k !== "name" && k !== "message") e[k] = o[k];
  return e;
}

// invoke calls method on an RPC stub and answers something to call then on:
// workerd's RPC promise as it is (Promise.resolve would add a job to every
// call), a plain value in a resolved promise, a throw as a rejected one.
function invoke(stub, method, args) {
  try {
    const v = stub[method](...args);
    return typeof v?.then === "function" ? v : Promise.resolve(v);
  } catch (e) { return Promise.reject(e); }
}

// callStub invokes method with the arguments' JSON array (bytes).
function callStub(stub, method, args) {
  return invoke(stub, method, JSON.parse(decoder.decode(args)));
}

// answerJSON is what Go gets of a value an RPC call answered: its JSON. The
// value is disposed as soon as its JSON is taken. Left alone, every result
// keeps its call's resources in workerd until this request ends: /leak's
// 20,000 calls took 2.7-7.5 s that way (33 runs) and 0.9-1.6 s disposed (14
// runs), and the request after them is the one that stalled.
function answerJSON(v) {
  const json = JSON.stringify(v === undefined ? null : v);
  try { v?.[Symbol.dispose]?.(); } catch { /* nothing to release */ }
  return json;
}

// answerBytes is what Go gets of callJSON's answer: the bytes as they are
// (disposed of too, if workerd gave them a disposer, as answerJSON does).
function answerBytes(v) {
  if (!(v instanceof Uint8Array)) throw new TypeError(`callJSON answered ${v === null ? "null" : typeof v}, not the bytes of JSON`);
  try { v[Symbol.dispose]?.(); } catch { /* nothing to release */ }
  return { bytes: v };
}

function writeValue(w, v) {
  if (v === null || v === undefined) w.u8(0);
  else if (typeof v === "number") { w.u8(Number.isInteger(v) ? 1 : 2); w.f64(v); }
  else if (typeof v === "string") { w.u8(3); w.str(v); }
  else if (typeof v === "boolean") { w.u8(1); w.f64(v ? 1 : 0); }
  else if (typeof v === "bigint") { w.u8(1); w.f64(Number(v)); }
  else if (v instanceof ArrayBuffer) { w.u8(4); w.bytes(new Uint8Array(v)); }
  else if (ArrayBuffer.isView(v)) { w.u8(4); w.bytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)); }
  else if (Array.isArray(v)) { w.u8(4); w.bytes(Uint8Array.from(v)); }
  else { w.u8(3); w.str(safeJSON(v)); }
}

function readParams(r) {
  const params = [];
  for (let n = r.u32(); n > 0; n--) {
    switch (r.u8()) {
      case 0: params.push(null); break;
      case 1: case 2: params.push(r.f64()); break;
      case 3: params.push(r.str()); break;
      case 4: params.push(r.bytes().slice().buffer); break;
      default: throw new Error("bridge: unknown D1 parameter tag");
    }
  }
  return params;
}

function encodeEnv(env) {
  const w = new Writer(1024);
  const vars = [], bindings = [];
  for (const k of Object.keys(env ?? {})) {
    const v = env[k];
    if (typeof v === "string") vars.push(k, v);
    else if (typeof v === "number" || typeof v === "boolean") vars.push(k, String(v));
    else bindings.push(k);
  }
  w.u32(vars.length / 2);
  for (const s of vars) w.str(s);
  w.u32(bindings.length);
  for (const s of bindings) w.str(s);
  return w.done().slice();
}

// jsHeapUsed is the bytes of the JavaScript heap in use where the runtime
// tells: performance.memory (Chrome's) or process.memoryUsage() (Node's, and
// workerd's with nodejs_compat if it has one). workerd exposes neither to a
// worker without nodejs_compat, so there it is null: measure workerd's
// process from outside (docs/operations.md).
function jsHeapUsed() {
  const pm = globalThis.performance?.memory;
  if (typeof pm?.usedJSHeapSize === "number" && pm.usedJSHeapSize > 0) return pm.usedJSHeapSize;
  try {
    const used = globalThis.process?.memoryUsage?.()?.heapUsed;
    if (typeof used === "number" && used > 0) return used;
  } catch { /* a stub that throws: not exposed */ }
  return null;
}

// checkWasmExec fails clearly if the Go release's wasm_exec.js lacks a private
// part the bridge relies on (it is copied from the Go that compiles app.wasm).
function checkWasmExec(go) {
  const gojs = go.importObject?.gojs ?? {};
  const missing = [
    ["_resume", typeof go._resume === "function"],
    ["_resolveExitPromise", typeof go._resolveExitPromise === "function"],
    ["run", typeof go.run === "function"],
    ['importObject.gojs["runtime.scheduleTimeoutEvent"]', typeof gojs["runtime.scheduleTimeoutEvent"] === "function"],
    ['importObject.gojs["runtime.clearTimeoutEvent"]', typeof gojs["runtime.clearTimeoutEvent"] === "function"],
  ].filter(([, ok]) => !ok).map(([name]) => name);
  if (missing.length) {
    throw new Error(`bridge: this Go release's wasm_exec.js lacks ${missing.join(", ")}; workers/js/runtime.mjs needs updating`);
  }
}

export class Runtime {
  #wasm; #Go; #errorName; #connect; #inst = null; #instances = 0;
  #nextSocket = 1; #openSockets = 0;
  #live = new Map(); #nextReq = 1;
  #timers = new Map(); #nextTimer = 1; // Go runtime timers: id -> due (performance.now() ms)
  #inflight = 0; // operations started for Go by live requests and not yet completed
  #yielded = 0; // Date.now() when a result last waited for workerd's event loop (#async)
  #wakes = 0; // times a request's loop was woken early, from its own context
  #polls = 0; // times a request's loop woke on its poll timer
  #waitsReported = 0; // requests found waiting on Go with nothing in flight (#run's keepalive)
  #current = null; // the request whose own context is running now (its event, its I/O's result, its loop), if known
  #suspendedCalls = 0; #suspendsReleased = 0; // RPC calls Go waited for inside call_wait; of those, released to the asynchronous path
  #syncAnswers = 0; #syncFallbacks = 0; // RPC calls answered inside bridge_call; tried there and not
  #peers = new Map(); // binding name -> PEER_GO, PEER_OTHER, or when it was asked (OP_RPC)
  #askAgainMs;
  #jsonCalls = 0; #jsonServed = 0; // RPC calls made with callJSON; answered through it
  #lastProps = null; #lastPropsJSON = "null";

  // connect is the Workers connect() of "cloudflare:sockets" (or a stand-in
  // with its shape, under Node); without it sockets fail clearly.
  //
  // askAgainMs is how long an unanswered question about a binding's worker
  // (#askPeer; the request that asked may have ended) stands before another
  // request asks again.
  constructor({ wasm, Go = globalThis.Go, errorName = "Error", connect = null, askAgainMs = 10_000 }) {
    this.#askAgainMs = askAgainMs;
    this.#wasm = wasm;
    this.#Go = Go;
    this.#errorName = errorName;
    this.#connect = connect;
  }

  // ---- events --------------------------------------------------------------

  async fetch(request, env, ctx) {
    let inst;
    try { inst = this.#ensure(env); } catch (e) { return this.#startFailure(e); }
    const req = this.#open(inst, env, ctx);
    req.request = request;
    const w = scratch.reset();
    w.str(request.method); w.str(request.url); writeHeaders(w, request.headers); w.u8(request.body ? 1 : 0);
    const response = new Promise((resolve) => { req.respond = resolve; });
    this.#begin(inst, KIND_FETCH, req, 0, w.done());
    if (!req.finished) this.#run(req);
    return response;
  }

  // call runs RPC method i of Go's handler; entrypoint is the number of the
  // named entrypoint class it arrived on (0: the default class). With sync
  // (a method marked //rpc:sync), Go first tries to answer inside the export
  // bridge_call, so the value is returned without a resume of Go nor a loop
  // (#answerSync); a method that turns out to need I/O runs as any other.
  call(method, args, env, ctx, entrypoint = 0, sync = false) {
    let json;
    try {
      json = JSON.stringify(args);
    } catch (e) { // a BigInt, a cycle: nothing Go could read
      return Promise.reject(this.#invalid(`the arguments cannot be encoded as JSON (${e?.message ?? e})`));
    }
    const req = this.#openCall(env, ctx, entrypoint);
    scratch.raw(json);
    return this.#callGo(req.inst, req, method, sync, scratch.done(), false);
  }

  // callJSON is call for a caller that has the arguments' JSON already: one Go
  // worker's runtime calling another's (OP_RPC). The arguments arrive as the
  // UTF-8 bytes of their JSON array, passed to Go as they are (Go's decoder
  // checks them as it would JSON.stringify's), and the answer is the bytes of
  // the result's JSON: no JSON.parse nor JSON.stringify on either side, and no
  // object for workerd to serialize, only bytes. name is the method's name as
  // the entry class has it; methods maps each such name to [method, sync].
  // Errors are thrown as call throws them.
  callJSON(methods, name, json, env, ctx, entrypoint = 0) {
    const m = typeof name === "string" ? methods.get(name) : undefined;
    if (!m) {
      const what = typeof name === "string" ? JSON.stringify(name.slice(0, 64)) : `a ${typeof name}`;
      return Promise.reject(this.#invalid(`callJSON: no RPC method named ${what}`));
    }
    if (!(json instanceof Uint8Array)) {
      return Promise.reject(this.#invalid(`callJSON: the arguments of ${name} must be a Uint8Array holding their JSON array, not ${json === null ? "null" : typeof json}`));
    }
    const req = this.#openCall(env, ctx, entrypoint);
    scratch.rawBytes(json);
    this.#jsonServed++;
    return this.#callGo(req.inst, req, m[0], m[1], scratch.done(), true);
  }

  // #openCall opens an RPC event's request and starts its payload in
  // scratch: the entrypoint and the caller's props; the arguments' JSON
  // follows. (It returns only the request, whose inst is the instance: no
  // array to allocate on every call.)
  #openCall(env, ctx, entrypoint) {
    const req = this.#open(this.#ensure(env), env, ctx);
    scratch.reset().u32(entrypoint);
    scratch.str(this.#propsJSON(ctx?.props));
    return req;
  }

  // #callGo runs an RPC event whose payload is written, and settles it: as a
  // value, or as the bytes of its JSON (asJSON).
  #callGo(inst, req, method, sync, payload, asJSON) {
    if (!(sync && this.#answerSync(inst, req, method, payload))) this.#begin(inst, KIND_RPC, req, method, payload);
    if (req.finished) { // answered without I/O: no loop, no timer
      try { return this.#settle(req, asJSON); } catch (e) { return Promise.reject(e); }
    }
    return this.#run(req).then(() => this.#settle(req, asJSON));
  }

  // #invalid is the error for arguments Go could not be given.
  #invalid(why) {
    return errorFromJSON({ name: this.#errorName, code: "INVALID_ARGUMENT", message: `INVALID_ARGUMENT: ${why}` });
  }

  async scheduled(controller, env, ctx) {
    const inst = this.#ensure(env);
    const req = this.#open(inst, env, ctx);
    const w = new Writer();
    w.str(String(controller?.cron ?? "")); w.f64(Number(controller?.scheduledTime ?? Date.now()));
    this.#begin(inst, KIND_SCHEDULED, req, 0, w.done());
    if (!req.finished) await this.#run(req);
    const r = new Reader(req.result ?? new Uint8Array([0, 0, 0, 0, 0]));
    const ok = r.u8() === 1, msg = r.str();
    if (!ok) throw new Error(msg || "scheduled handler failed");
  }

  // queue hands a batch of queue messages to Go's queue handler, then acks or
  // retries each message as Go answered. If Go cannot answer (no handler, a
  // panic, the instance stopped), the whole batch is retried. Bodies cross as
  // JSON.stringify(msg.body); one without a JSON form crosses as none.
  async queue(batch, env, ctx) {
    const msgs = batch.messages;
    let inst;
    try { inst = this.#ensure(env); } catch (e) {
      this.#retryBatch(batch, `worker failed to start: ${e?.message ?? e}`);
      return;
    }
    const req = this.#open(inst, env, ctx);
    const w = new Writer(1024);
    w.str(String(batch.queue ?? "")); w.u32(msgs.length);
    for (const m of msgs) {
      const ts = Number(m.timestamp);
      w.str(String(m.id)); w.f64(Number.isFinite(ts) ? ts : 0); w.u32(m.attempts >>> 0);
      let json;
      try { json = JSON.stringify(m.body); } catch { json = undefined; }
      if (json === undefined) w.u8(0);
      else { w.u8(1); w.str(json); }
    }
    this.#begin(inst, KIND_QUEUE, req, 0, w.done());
    if (!req.finished) await this.#run(req);
    const why = this.#settleQueue(batch, req.failed ? null : req.result);
    if (why) this.#retryBatch(batch, why);
  }

  // #settleQueue acks or retries each message as Go's result says: u8 ok, error
  // text, u32 n, then n × (u8 retry, u32 delaySeconds; 0 leaves the queue's
  // retry delay). A message without a result is retried. It returns why the
  // whole batch must be retried instead, or "" when it has settled every message.
  #settleQueue(batch, result) {
    if (!result) return "the Go instance stopped while handling the batch";
    const msgs = batch.messages, retry = [], delay = [];
    try {
      const r = new Reader(result);
      if (r.u8() !== 1) return r.str() || "the queue handler failed";
      r.str();
      for (let n = r.u32(); n > 0; n--) { retry.push(r.u8() === 1); delay.push(r.u32()); }
    } catch (e) {
      return `malformed queue result from Go: ${e?.message ?? e}`;
    }
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i];
      if (i < retry.length && !retry[i]) { m.ack(); continue; }
      if (i < retry.length && delay[i] > 0) {
        try { m.retry({ delaySeconds: delay[i] }); continue; } catch (e) {
          console.error(JSON.stringify({ level: "WARN", msg: "queue: retry with a delay failed; retrying with the queue's delay", queue: batch.queue, id: m.id, delaySeconds: delay[i], error: String(e?.message ?? e) }));
        }
      }
      m.retry();
    }
    return "";
  }

  #retryBatch(batch, why) {
    console.error(JSON.stringify({ level: "ERROR", msg: "queue: retrying the whole batch", queue: batch.queue, messages: batch.messages.length, error: why }));
    batch.retryAll();
  }

  // #propsJSON is the JSON of ctx.props, remembered for the last object seen
  // (a binding's props arrive as the same object call after call).
  #propsJSON(props) {
    if (props === undefined || props === null) return "null";
    if (props !== this.#lastProps) {
      this.#lastProps = props;
      this.#lastPropsJSON = JSON.stringify(props);
    }
    return this.#lastPropsJSON;
  }

  // stats are the bridge's counters, for leak tests and operators.
  stats() {
    const go = this.#inst?.go;
    return {
      jspi: JSPI,
      instances: this.#instances,
      liveRequests: this.#live.size,
      inflightOps: this.#inflight,
      goTimers: this.#timers.size,
      waitsReported: this.#waitsReported,
      openSockets: this.#openSockets,
      loopWakes: this.#wakes,
      loopPolls: this.#polls,
      suspendedCalls: this.#suspendedCalls,
      suspendsReleased: this.#suspendsReleased,
      syncAnswers: this.#syncAnswers,
      syncFallbacks: this.#syncFallbacks,
      jsonCalls: this.#jsonCalls,
      jsonServed: this.#jsonServed,
      jsValues: go && go._values ? go._values.length - go._idPool.length : 0,
      wasmMemory: this.#inst?.ex?.mem?.buffer.byteLength ?? 0,
      jsHeap: jsHeapUsed(),
    };
  }

  // ---- the Go instance -----------------------------------------------------

  #ensure(env) {
    const cur = this.#inst;
    if (cur && !cur.dead) return cur;
    const inst = this.#instantiate(env, null);
    inst.go.run(inst.instance); // runs main until it waits in workers.Serve
    if (inst.go.exited || !inst.ready) {
      this.#kill(inst, new Error(`Go program exited (code ${inst.exitCode}) before calling workers.Serve`));
      throw new Error("worker failed to start: the Go program exited before serving");
    }
    return inst;
  }

  // runProgram runs a Go program to its exit as a command, with one request
  // alive for its whole life (id 1, its context the caller's): how bridge tests
  // run under Node (go test -exec, see node_exec.mjs). Returns the exit code.
  async runProgram({ argv, vars }, env) {
    const inst = this.#instantiate(env, { argv, vars });
    const req = this.#open(inst, env, { props: null });
    inst.quietExit = true;
    inst.go.run(inst.instance);
    if (inst.go.exited) this.#kill(inst, null);
    await this.#run(req);
    return inst.exitCode ?? 1;
  }

  #instantiate(env, program) {
    const go = new this.#Go();
    checkWasmExec(go);
    const inst = {
      go, ex: null, instance: null, dead: false, ready: false, exitCode: null, quietExit: false, env: encodeEnv(env),
      held: [new Map(), new Map()], // payloads waiting for Go to take them: [by request id, by call id]
      // JSPI (#callStart): Go's resume export wrapped by WebAssembly.promising,
      // and what kills the instance if it traps there; whether that resume is
      // running (inResume) or has waited inside call_wait and Go has not
      // returned to JavaScript yet (busy); the request whose context resumed
      // it; the call Go waits for in call_wait (until its answer); whether
      // another context released the wait (foreign).
      resumeP: null, onTrap: null, inResume: false, busy: false, resumedBy: null, wait: null, foreign: false,
    };
    if (program) { go.argv = program.argv; go.env = program.vars; }
    go.exit = (code) => { inst.exitCode = code; };
    // wasm_exec resumes Go itself for syscall/js callbacks (Go's own file
    // writes under Node, for one); an exit there must be seen too.
    const resume = go._resume.bind(go);
    go._resume = () => {
      if (JSPI) this.#resumeSuspendable(inst);
      else resume();
      if (go.exited) this.#kill(inst, new Error(`Go program exited with code ${inst.exitCode}`));
    };
    // Nothing awaits the exit promise; resolving it from another request's
    // context would only log a warning. Exits are seen after every resume.
    go._resolveExitPromise = noop;
    const gojs = go.importObject.gojs;
    // Go's runtime timers are recorded here instead of armed with setTimeout in
    // whichever request happened to idle Go; live requests fire them (#fireTimers).
    gojs["runtime.scheduleTimeoutEvent"] = (sp) => {
      sp >>>= 0;
      const m = go.mem;
      const delay = m.getUint32(sp + 8, true) + m.getInt32(sp + 12, true) * 4294967296;
      const id = this.#nextTimer++;
      const due = performance.now() + delay;
      this.#timers.set(id, due);
      m.setInt32(sp + 16, id, true);
      this.#pokeEarlier(due);
    };
    gojs["runtime.clearTimeoutEvent"] = (sp) => {
      sp >>>= 0;
      this.#timers.delete(go.mem.getInt32(sp + 8, true));
    };
    const imports = {
      ...go.importObject,
      bridge: {
        post: (id, op, call, ptr, n) => this.#post(inst, id, op, call, ptr >>> 0, n >>> 0),
        // call_start and call_wait: #callStart says why two. (V8 suspends Go
        // on every call of a Suspending import, whatever it returns.)
        call_start: (id, op, call, ptr, n) => this.#callStart(inst, id, op, call, ptr >>> 0, n >>> 0),
        call_wait: JSPI
          ? new WebAssembly.Suspending((call) => this.#callWait(inst, call))
          : () => { throw new Error("bridge: call_wait without JSPI"); },
        ready: () => { inst.ready = true; },
        // take copies what JavaScript holds for an event (kind 0, by request
        // id) or a reply (kind 1, by call id) into Go's memory, and forgets it.
        take: (kind, id, ptr, n) => {
          const held = inst.held[kind];
          const bytes = held.get(id);
          held.delete(id);
          if (bytes && n) new Uint8Array(inst.ex.mem.buffer, ptr >>> 0, n >>> 0).set(bytes.subarray(0, n >>> 0));
        },
        console: (level, ptr, n) => {
          const line = decoder.decode(new Uint8Array(inst.ex.mem.buffer, ptr >>> 0, n >>> 0));
          if (level === 1) console.error(line); else console.log(line);
        },
        env: (ptr, n) => {
          if (inst.env.length <= n >>> 0) new Uint8Array(inst.ex.mem.buffer, ptr >>> 0, inst.env.length).set(inst.env);
          return inst.env.length;
        },
      },
    };
    inst.instance = new WebAssembly.Instance(this.#wasm, imports);
    inst.ex = inst.instance.exports;
    if (this.#inst && !this.#inst.dead) this.#kill(this.#inst, new Error("replaced"));
    this.#inst = inst;
    this.#instances++;
    this.#timers.clear();
    return inst;
  }

  // ---- waiting inside call_wait (JSPI) --------------------------------------
  //
  // Go's resume runs inside WebAssembly.promising. A goroutine making an RPC
  // call (bridge.Do) while its own request's context runs Go, no other
  // request is alive and none of its request's operations is in flight has
  // the call made by the import call_start instead of posting it; then the
  // whole of Go waits inside the import call_wait (JSPI suspends its stack)
  // until the answer is back. The goroutine goes on as if the import had
  // returned at once: no parking, no pause of Go's scheduler, no
  // bridge_complete and no resume, which is most of a Go caller's cost of a
  // call (docs/bridge.md, "Waiting inside the call"). While Go waits it
  // is busy: nothing may enter it, and its other goroutines do not run.
  // Anything that needs Go meanwhile (another event, another operation's
  // result, a Go timer that falls due, a turn of the request's loop once
  // the wait has lasted WAIT_MAX_MS) releases the wait: call_wait returns
  // WAIT_RELEASED, the goroutine waits for the answer on the asynchronous
  // path, Go returns to JavaScript, and what was held back enters Go then,
  // each from its own context (#whenIdle). A wait therefore never holds up
  // another request for longer than Go takes to get back to JavaScript.

  #resumeSuspendable(inst) {
    if (inst.go.exited) throw new Error("Go program has already exited");
    inst.resumeP ??= WebAssembly.promising(inst.ex.resume);
    inst.onTrap ??= (e) => this.#kill(inst, e);
    inst.resumedBy = this.#current;
    inst.inResume = true;
    let done;
    try {
      done = inst.resumeP();
    } finally {
      inst.inResume = false;
    }
    // Go has returned, or it waits inside call_wait (which set busy) and
    // returns later. A trap shows only as a rejection: JSPI turns it into one.
    if (inst.busy) done.then(() => this.#idle(inst), (e) => { this.#idle(inst); this.#kill(inst, e); });
    else done.catch(inst.onTrap);
  }

  // #idle runs when Go, having waited inside call_wait, has returned to
  // JavaScript. What it posted to the request that resumed it is performed
  // now, when that request's context is the one running (its answer resumed
  // Go) and no other context released the wait.
  #idle(inst) {
    const req = inst.resumedBy, foreign = inst.foreign;
    inst.busy = false; inst.foreign = false; inst.wait = null;
    if (inst.go.exited) { this.#kill(inst, new Error(`Go program exited with code ${inst.exitCode}`)); return; }
    if (req && !foreign && !req.finished) {
      const outer = this.#current;
      this.#current = req;
      try { this.#drain(req); } finally { this.#current = outer; }
    }
  }

  // #callStart is the import call_start: it answers 0 (post the call as
  // usual) unless Go may wait for this call inside call_wait, else it makes
  // the call and answers 1, and Go then calls call_wait. Two imports, because
  // V8 suspends Go on every call of a Suspending import, even one that
  // returns a plain value: call_wait is called only to wait.
  #callStart(inst, id, op, call, ptr, n) {
    if (!JSPI || !(inst.inResume || inst.busy) || inst.wait || inst.foreign || op !== OP_RPC || this.#live.size !== 1) return 0;
    const req = this.#live.get(id);
    // Not while another operation of the request is in flight: its result
    // would need Go.
    if (!req || req !== inst.resumedBy || req.finished || req.failPending || req.inst !== inst || req.inflight !== 0) return 0;
    const bytes = new Uint8Array(inst.ex.mem.buffer, ptr, n).slice();
    this.#suspendedCalls++;
    inst.wait = { call, resolve: null, result: undefined, since: performance.now() };
    try {
      this.#perform(req, op, call, bytes);
    } catch (e) {
      this.#complete(req, call, S_ERR, encodeError(e));
    }
    return 1;
  }

  // #callWait is the import call_wait (a Suspending function: Go waits in
  // it): a promise of call's answer (n * 4 + status; the bytes are held for
  // take), or of WAIT_RELEASED; the answer itself if it is already in.
  #callWait(inst, call) {
    inst.busy = true;
    const wait = inst.wait;
    if (!wait || wait.call !== call) throw new Error(`bridge: call_wait for call ${call}, which was not started`);
    if (wait.result !== undefined) { inst.wait = null; return wait.result; }
    return new Promise((resolve) => { wait.resolve = resolve; });
  }

  // #release ends Go's wait inside call_wait: the goroutine waits for the
  // answer on the asynchronous path (bridge_complete brings it). From another
  // context than the one that resumed Go, Go's return is foreign to it.
  #release(inst) {
    if (!inst.busy) return;
    if (this.#current !== inst.resumedBy) inst.foreign = true;
    const wait = inst.wait;
    if (!wait?.resolve) return;
    inst.wait = null;
    this.#suspendsReleased++;
    wait.resolve(WAIT_RELEASED);
  }

  // #whenIdle runs fn (an entry into Go) once Go has returned to JavaScript,
  // releasing its wait first. It retries from the current context, never
  // from another's: first as microtasks (Go's continuation and its return
  // are usually microtasks queued ahead), then on a zero timer.
  #whenIdle(inst, fn, tries = 0) {
    if (inst.dead || !inst.busy) { fn(); return; }
    this.#release(inst);
    const current = this.#current;
    const retry = () => {
      const outer = this.#current;
      this.#current = current;
      try { this.#whenIdle(inst, fn, tries + 1); } finally { this.#current = outer; }
    };
    if (tries < 4) queueMicrotask(retry);
    else setTimeout(retry, 0);
  }

  #startFailure(e) {
    console.error(JSON.stringify({ level: "ERROR", msg: "worker failed to start", error: String(e?.message ?? e) }));
    return new Response("worker failed to start\n", { status: 500 });
  }

  // #resumeIn runs Go from a callback that belongs to req's context: what Go
  // posts to req meanwhile is performed right after, still in that context,
  // without a round through req's loop (the hot path of sequential calls).
  #resumeIn(inst, req) {
    const outer = this.#current;
    this.#current = req;
    try {
      this.#resume(inst);
      if (req) this.#drain(req);
    } finally {
      this.#current = outer;
    }
  }

  #resume(inst) {
    if (inst.dead) return;
    if (inst.busy) { this.#whenIdle(inst, () => this.#resume(inst)); return; }
    try {
      inst.go._resume();
    } catch (e) {
      this.#kill(inst, e);
      return;
    }
    if (inst.go.exited) this.#kill(inst, new Error(`Go program exited with code ${inst.exitCode}`));
  }

  // #kill forgets a dead instance (a wasm trap, os.Exit, an unrecovered panic in
  // a goroutine) and fails its requests; the next event starts a new one.
  #kill(inst, err) {
    if (inst.dead) return;
    inst.dead = true;
    if (this.#inst === inst) { this.#inst = null; this.#timers.clear(); }
    if (!(inst.quietExit && inst.go.exited)) console.error(JSON.stringify({ level: "ERROR", msg: "Go instance stopped; the next event starts a new one", error: String(err?.message ?? err) }));
    // A request's failure is built and answered in its own context (workerd
    // refuses I/O on behalf of another request: a Response made here for
    // another request fails it with "Cannot perform I/O on behalf of a
    // different request"). The request whose callback this is fails now;
    // the others are woken and fail in their own loops.
    for (const req of this.#live.values()) {
      if (req.inst !== inst) continue;
      if (req === this.#current) this.#fail(req);
      else this.#failLater(req);
    }
  }

  // #failLater marks req to fail in its own loop, which sees it at its next
  // poll (#wait: no other context may wake it).
  #failLater(req) {
    req.failPending = true;
  }

  // ---- requests and their mailboxes ----------------------------------------

  #open(inst, env, ctx) {
    let id = this.#nextReq;
    while (this.#live.has(id) || id === 0) id = (id + 1) >>> 0;
    this.#nextReq = (id + 1) >>> 0;
    const req = {
      id, inst, env, ctx, q: [], qi: 0, draining: false, failPending: false, wake: null, waitDue: Infinity, poll: POLL_MIN_MS, finished: false, stallReported: false,
      inflight: 0, // this request's operations in flight
      request: null, respond: null, writer: null, reader: null, result: null, failed: false,
      sockets: null, // id -> socket opened in this request's context
    };
    this.#live.set(id, req);
    return req;
  }

  // #begin hands an event to Go and, in the event's own context, performs what
  // Go asked for synchronously.
  #begin(inst, kind, req, method, bytes) {
    if (inst.busy) { const own = ownBytes(bytes); this.#whenIdle(inst, () => this.#begin(inst, kind, req, method, own)); return; }
    this.#fireTimers(inst, req);
    try {
      if (bytes.length) inst.held[0].set(req.id, ownBytes(bytes));
      if (!inst.ex.bridge_start(kind, req.id, method, bytes.length)) {
        inst.held[0].delete(req.id);
        console.error(JSON.stringify({ level: "ERROR", msg: "bridge: too many events waiting for Go; failing one", request: req.id }));
        this.#fail(req);
        return;
      }
    } catch (e) {
      this.#kill(inst, e);
      return;
    }
    this.#resumeIn(inst, req);
  }

  // #answerSync asks Go to answer RPC method inside the export bridge_call,
  // in this call's context, and performs the answer Go posted. It returns
  // false if Go did not answer (the method asked for I/O, or Go's handler does
  // not mark it synchronous): nothing happened, and the caller starts the
  // event as usual. Go's due timers fire first, as in #begin.
  #answerSync(inst, req, method, bytes) {
    if (inst.busy) return false; // #begin waits for Go
    this.#fireTimers(inst, req);
    if (inst.dead) return false; // #begin fails the call
    const outer = this.#current;
    this.#current = req;
    let answered = 0;
    try {
      if (bytes.length) inst.held[0].set(req.id, ownBytes(bytes));
      answered = inst.ex.bridge_call(req.id, method, bytes.length);
    } catch (e) {
      this.#kill(inst, e); // fails req: it is #current
      return true;
    } finally {
      this.#current = outer;
    }
    if (inst.go.exited) {
      this.#current = req;
      try { this.#kill(inst, new Error(`Go program exited with code ${inst.exitCode}`)); } finally { this.#current = outer; }
      return true;
    }
    if (!answered) {
      inst.held[0].delete(req.id);
      this.#syncFallbacks++;
      return false;
    }
    this.#syncAnswers++;
    this.#drain(req);
    return true;
  }

  // post is the import Go calls (in whatever context is running Go): it only
  // queues. If the request's own context is running Go, #resumeIn performs
  // the operation as soon as Go yields; otherwise the request's loop does at
  // its next poll, or its own next I/O result does, whichever comes first.
  #post(inst, id, op, call, ptr, n) {
    const req = this.#live.get(id);
    if (!req || req.finished || req.inst !== inst) return 0;
    req.q.push(op, call, new Uint8Array(inst.ex.mem.buffer, ptr, n).slice());
    return 1;
  }

  #finish(req) {
    if (req.finished) return;
    req.finished = true;
    this.#live.delete(req.id);
    // Its operations still in flight are no longer counted: workerd cancels
    // a finished request's I/O, so most never settle (an RPC call abandoned
    // at a deadline, a read on a socket closed below), and counted they
    // would leave #inflight above 0 for good, silencing #run's keepalive.
    this.#inflight -= req.inflight;
    req.inflight = 0;
    if (req.sockets) this.#closeSockets(req);
    // Its loop ends at once if this is its own context, else at its next poll.
    if (req.wake && req === this.#current) { const w = req.wake; req.wake = null; this.#wakes++; w(); }
  }

  // ---- sockets -------------------------------------------------------------
  // A socket belongs to the request that opened it: workerd binds it to that
  // request's context. When the request ends its sockets are closed, and the
  // goroutines still waiting on one get an error instead of waiting forever.

  #openSocket(req, call, bytes) {
    const r = new Reader(bytes);
    const hostname = r.str(), port = r.u32(), tls = r.u8() === 1, allowHalfOpen = r.u8() === 1;
    if (!this.#connect) throw new Error("sockets are not available: the runtime was built without connect()");
    const sock = this.#connect({ hostname, port }, { secureTransport: tls ? "on" : "off", allowHalfOpen });
    const id = this.#nextSocket++;
    const s = { sock, reader: sock.readable.getReader(), writer: sock.writable.getWriter(), calls: new Set(), allowHalfOpen };
    (req.sockets ??= new Map()).set(id, s);
    this.#openSockets++;
    this.#socketOp(req, s, call, sock.opened.catch((e) => {
      if (this.#dropSocket(req, id)) { try { sock.close().catch(noop); } catch { /* never opened */ } }
      throw e;
    }), (info) => {
      const w = scratch.reset();
      w.u32(id); w.str(String(info?.remoteAddress ?? "")); w.str(String(info?.localAddress ?? ""));
      return { bytes: w.done() };
    });
  }

  #socket(req, r) {
    const id = r.u32();
    const s = req.sockets?.get(id);
    if (!s) throw new Error("socket is closed");
    return [id, s];
  }

  // #socketOp is #async for an operation on s, remembered until it settles so
  // that closing the socket can fail it.
  #socketOp(req, s, call, promise, onValue) {
    s.calls.add(call);
    this.#async(req, call, promise.finally(() => s.calls.delete(call)), onValue);
  }

  #dropSocket(req, id) {
    const s = req.sockets?.get(id);
    if (!s) return null;
    req.sockets.delete(id);
    this.#openSockets--;
    return s;
  }

  #closeSockets(req) {
    for (const id of [...req.sockets.keys()]) this.#closeSocket(req, id, "socket closed: its request has finished");
  }

  // #closeSocket closes a socket and fails the operations still waiting on it
  // (a pending read may never settle once its socket is closed).
  #closeSocket(req, id, why) {
    const s = this.#dropSocket(req, id);
    if (!s) return;
    try { s.sock.close().catch(noop); } catch { /* already closed */ }
    const calls = [...s.calls];
    s.calls.clear();
    // Later, not from inside #finish or #perform: Go may be running below us.
    if (calls.length) queueMicrotask(() => {
      for (const c of calls) this.#complete(req, c, S_ERR, encodeError(new Error(why)));
    });
  }

  #fail(req) {
    req.failed = true;
    if (req.respond) {
      if (req.writer) req.writer.abort(new Error("worker stopped")).catch(noop);
      else req.respond(new Response("internal error\n", { status: 500 }));
    }
    const w = new Writer();
    w.u8(0);
    w.raw(JSON.stringify({ name: this.#errorName, message: "INTERNAL: the worker stopped while serving the call", code: "INTERNAL" }));
    req.result = w.done();
    this.#finish(req);
  }

  // #run is a request's loop. It lives in the request's own context, keeps one
  // long timer there for its whole life (so workerd never takes it for hung),
  // performs queued operations, and fires Go's timers when they are due.
  async #run(req) {
    // The keepalive also reports a request still waiting on Go while no
    // operation is in flight anywhere and no Go timer is pending: only a new
    // event could wake it, which is most likely a bug.
    const started = performance.now();
    const keepalive = setInterval(() => {
      if (!req.finished && !req.stallReported && this.#inflight === 0 && this.#timers.size === 0) {
        req.stallReported = true;
        this.#waitsReported++;
        console.error(JSON.stringify({ level: "WARN", msg: "bridge: a request waits on Go with nothing in flight", request: req.id,
          waitingMs: Math.round(performance.now() - started), queued: req.q.length - req.qi, stats: this.stats() }));
      }
    }, KEEPALIVE_MS);
    try {
      while (!req.finished) {
        const worked = this.#turn(req);
        if (req.finished) break;
        if (req.qi < req.q.length) continue;
        req.poll = worked ? POLL_MIN_MS : Math.min(req.poll * 2, POLL_MAX_MS);
        await this.#wait(req);
      }
    } catch (e) {
      console.error(JSON.stringify({ level: "ERROR", msg: "bridge loop failed", error: String(e?.message ?? e) }));
      this.#fail(req);
    } finally {
      clearInterval(keepalive);
    }
  }

  // #turn is one pass of req's loop, in req's own context: it fails req if
  // asked to, performs what other requests' goroutines posted to it, and fires
  // Go's due timers. It reports whether there was anything to do.
  #turn(req) {
    const outer = this.#current;
    this.#current = req;
    try {
      if (req.failPending) { this.#fail(req); return true; }
      const wait = req.inst.wait;
      if (wait && performance.now() - wait.since >= WAIT_MAX_MS) this.#release(req.inst);
      const posted = req.qi < req.q.length;
      this.#drain(req);
      if (req.finished) return true;
      return this.#fireTimers(req.inst, req) || posted;
    } finally {
      this.#current = outer;
    }
  }

  // #wait sleeps on a timer of req's own context, until Go's earliest timer
  // is due or its poll (POLL_MIN_MS) has passed, whichever is sooner.
  //
  // Nothing in another request's context ends the sleep. workerd is meant to
  // run a continuation woken from another request's context in its own
  // (handle_cross_request_promise_resolution), and it does, until V8 has
  // optimized the code that made the promise: then the continuation runs in
  // the waker's context, and the I/O it starts, a Response among them, belongs
  // to the waker ("Cannot perform I/O on behalf of a different request";
  // docs/bridge.md, "Woken by another request"). A timer's callback
  // runs in the context that armed it, always. Only req's own context wakes
  // it earlier (#finish, #pokeEarlier), which is no crossing.
  #wait(req) {
    const now = performance.now();
    const until = Math.min(this.#nextDue(), now + (req.inflight > 0 ? POLL_MAX_MS : req.poll));
    req.waitDue = until;
    let timer = 0;
    return new Promise((resolve) => {
      req.wake = resolve;
      timer = setTimeout(() => { this.#polls++; resolve(); }, Math.max(0, until - now));
    }).then(() => {
      req.wake = null;
      clearTimeout(timer);
    });
  }

  // #pokeEarlier wakes the loop of the request whose context runs Go if its
  // timer is armed later than due, so that it re-arms for it. Other loops see
  // the new deadline at their next poll, at most POLL_MAX_MS later. Go
  // re-schedules its one idle timer on every resume, mostly for the same
  // deadline: that must not wake anyone.
  #pokeEarlier(due) {
    // Go rounds its deadlines up to whole milliseconds, so the same deadline
    // comes back up to 1 ms apart: only a clearly earlier one wakes a loop.
    const req = this.#current;
    if (req?.wake && due < req.waitDue - TIMER_SLACK_MS) { const w = req.wake; req.wake = null; this.#wakes++; w(); }
  }

  #nextDue() {
    let due = Infinity;
    for (const d of this.#timers.values()) if (d < due) due = d;
    return due;
  }

  // #fireTimers resumes Go if one of its timers is due; it reports whether.
  #fireTimers(inst, req = null) {
    if (this.#timers.size === 0 || inst.dead) return false;
    const now = performance.now();
    if (inst.busy) { // Go waits inside call_wait: only a due timer releases it; the loop fires it at its next turn
      if (this.#nextDue() <= now) this.#release(inst);
      return false;
    }
    let fired = false;
    for (const [id, due] of this.#timers) {
      if (due <= now) { this.#timers.delete(id); fired = true; }
    }
    if (fired) this.#resumeIn(inst, req);
    return fired;
  }

  // #drain performs what Go posted to req, in order. An operation that
  // completes at once resumes Go from inside this loop (#complete →
  // #resumeIn), and what Go posts then is queued behind: the nested #drain
  // returns at once and this loop performs it, so the stack stays flat
  // however many operations complete synchronously in a row.
  #drain(req) {
    if (req.draining) return;
    req.draining = true;
    try {
      this.#drainLoop(req);
    } finally {
      req.draining = false;
    }
  }

  #drainLoop(req) {
    const q = req.q;
    while (req.qi < q.length && !req.finished && !req.failPending) {
      const op = q[req.qi], call = q[req.qi + 1], bytes = q[req.qi + 2];
      q[req.qi + 2] = null;
      req.qi += 3;
      try {
        this.#perform(req, op, call, bytes);
      } catch (e) {
        if (call) this.#complete(req, call, S_ERR, encodeError(e));
        else this.#fail(req);
      }
    }
    if (req.qi === q.length) { q.length = 0; req.qi = 0; }
  }

  // #complete hands a result to the goroutine waiting on call and runs Go.
  // The bytes stay here until that goroutine takes them (exports must not
  // allocate in Go).
  #complete(req, call, status, bytes) {
    const inst = req.inst;
    if (inst.dead) return;
    const n = bytes ? bytes.length : 0;
    const wait = inst.wait;
    if (wait && wait.call === call) { // Go waits for it inside call_wait: no export, no resume
      if (n) inst.held[1].set(call, ownBytes(bytes));
      if (wait.resolve) { inst.wait = null; wait.resolve(n * 4 + status); } else wait.result = n * 4 + status;
      return;
    }
    if (inst.busy) { const own = bytes && ownBytes(bytes); this.#whenIdle(inst, () => this.#complete(req, call, status, own)); return; }
    try {
      if (n) inst.held[1].set(call, ownBytes(bytes));
      if (!inst.ex.bridge_complete(call, status, n)) inst.held[1].delete(call);
    } catch (e) {
      this.#kill(inst, e);
      return;
    }
    this.#resumeIn(inst, req);
  }

  // #completeText is #complete for a string.
  #completeText(req, call, status, s) {
    this.#complete(req, call, status, encoder.encode(s));
  }

  // #async starts a JavaScript operation for call; its result goes back to Go
  // from the promise's continuation, which runs in this request's context.
  //
  // Results that keep coming back without I/O (sequential RPC calls to a
  // worker in the same process) would keep workerd's event loop busy for as
  // long as Go keeps calling: it polls no socket and does not advance the
  // clock of its timers meanwhile. After 20,000 such calls (5-10 s) its HTTP
  // server took the connection that carried the request as idle for longer
  // than its 5 s keep-alive and closed it at once, under the next request
  // wrangler's dev proxy had already sent on it ("Long runs of calls" in
  // docs/bridge.md). So once per YIELD_MS a result is handed over from
  // a zero timer, which workerd fires only after polling.
  #async(req, call, promise, onValue) {
    this.#inflight++;
    req.inflight++;
    promise.then(
      (v) => this.#deliver(req, call, false, v, onValue),
      (e) => this.#deliver(req, call, true, e, onValue),
    );
  }

  #deliver(req, call, failed, v, onValue) {
    const now = Date.now();
    if (now - this.#yielded >= YIELD_MS) {
      this.#yielded = now;
      setTimeout(() => this.#deliver(req, call, failed, v, onValue), 0);
      return;
    }
    if (!req.finished) { this.#inflight--; req.inflight--; } // (else #finish has)
    if (failed) { this.#complete(req, call, S_ERR, encodeError(v)); return; }
    let out;
    try { out = onValue(v); } catch (e) { this.#complete(req, call, S_ERR, encodeError(e)); return; }
    if (typeof out === "string") this.#completeText(req, call, S_OK, out);
    else this.#complete(req, call, out.status ?? S_OK, out.bytes);
  }

  // #askPeer answers whether binding name's worker takes callJSON: whether
  // its entry class says callJSONVersion is this runtime's. Anything else,
  // a failure included, makes it a worker called as any other, for the rest
  // of this isolate's life (a few calls through JSON are slower, never wrong).
  #askPeer(stub, name) {
    return invoke(stub, "callJSONVersion", []).then((v) => v === JSON_RPC_VERSION, () => false).then((go) => {
      this.#peers.set(name, go ? PEER_GO : PEER_OTHER);
      return go;
    });
  }

  // #callJSON calls method on a Go worker with the bytes of its arguments'
  // JSON. If that worker no longer has callJSON (it was replaced by another
  // kind of worker since it was asked), the call failed before anything ran:
  // the binding is asked again on its next call.
  #callJSON(stub, name, method, args) {
    this.#jsonCalls++;
    return invoke(stub, "callJSON", [method, args.slice()]).then(same, (e) => { // (workerd's RPC promise wants both functions)
      if (e instanceof TypeError && String(e.message).includes("callJSON")) this.#peers.delete(name);
      throw e;
    });
  }

  #perform(req, op, call, bytes) {
    switch (op) {
      case OP_RETURN:
      case OP_DONE:
        req.result = bytes;
        this.#finish(req);
        return;
      case OP_RESPOND: {
        const r = new Reader(bytes);
        const status = r.u32(), headers = readHeaders(r), body = r.bytes();
        req.respond(new Response(NULL_BODY_STATUS.has(status) ? null : body, { status, headers }));
        this.#finish(req);
        return;
      }
      case OP_RESPOND_HEAD: {
        const r = new Reader(bytes);
        const status = r.u32(), headers = readHeaders(r);
        const { readable, writable } = new TransformStream();
        req.writer = writable.getWriter();
        req.respond(new Response(readable, { status, headers }));
        this.#complete(req, call, S_OK, null);
        return;
      }
      case OP_BODY_WRITE:
        this.#async(req, call, req.writer.write(bytes), () => ({ bytes: null }));
        return;
      case OP_BODY_END: {
        const r = new Reader(bytes);
        const ok = r.u8() === 1, msg = r.str();
        if (ok) req.writer.close().catch(noop);
        else req.writer.abort(new Error(msg)).catch(noop);
        this.#finish(req);
        return;
      }
      case OP_BODY_READ: {
        req.reader ??= req.request.body.getReader();
        this.#async(req, call, req.reader.read(), ({ done, value }) =>
          done ? { status: S_EOF, bytes: null } : { bytes: value });
        return;
      }
      case OP_RPC: {
        const r = new Reader(bytes);
        const name = r.str(), method = r.str(), args = r.rest();
        const stub = req.env[name];
        if (!stub) throw new Error(`no binding named ${name}`);
        const peer = this.#peers.get(name);
        if (peer === PEER_GO) {
          this.#async(req, call, this.#callJSON(stub, name, method, args), answerBytes);
        } else if (peer === undefined || (typeof peer === "number" && Date.now() - peer > this.#askAgainMs)) {
          // Ask once per binding, in this request, and make this call when the
          // answer is in: other requests meanwhile call as for any worker.
          this.#peers.set(name, Date.now());
          const p = this.#askPeer(stub, name).then((go) =>
            go ? this.#callJSON(stub, name, method, args).then(answerBytes) : callStub(stub, method, args).then(answerJSON));
          this.#async(req, call, p, same);
        } else {
          this.#async(req, call, callStub(stub, method, args), answerJSON);
        }
        return;
      }
      case OP_FETCH: {
        const r = new Reader(bytes);
        const name = r.str(), method = r.str(), url = r.str(), headers = readHeaders(r);
        const hasBody = r.u8() === 1, body = r.bytes().slice();
        const init = { method, headers, body: hasBody ? body : undefined, redirect: "manual" };
        let p;
        if (name) {
          const b = req.env[name];
          if (!b) throw new Error(`no binding named ${name}`);
          p = b.fetch(url, init);
        } else p = fetch(url, init);
        this.#async(req, call, p.then(async (resp) => [resp, new Uint8Array(await resp.arrayBuffer())]), ([resp, buf]) => {
          const w = scratch.reset();
          w.u32(resp.status); writeHeaders(w, resp.headers); w.bytes(buf);
          return { bytes: w.done() };
        });
        return;
      }
      case OP_D1: {
        const r = new Reader(bytes);
        const db = req.env[r.str()];
        const mode = r.u8(), sql = r.str(), params = readParams(r);
        if (!db) throw new Error("no such D1 binding");
        const stmt = params.length ? db.prepare(sql).bind(...params) : db.prepare(sql);
        if (mode === 0) {
          this.#async(req, call, stmt.raw({ columnNames: true }), (rows) => {
            const w = scratch.reset();
            const cols = rows.length ? rows[0] : [];
            w.u32(cols.length);
            for (const c of cols) w.str(String(c));
            w.u32(Math.max(rows.length - 1, 0));
            for (let i = 1; i < rows.length; i++) for (const v of rows[i]) writeValue(w, v);
            return { bytes: w.done() };
          });
        } else {
          this.#async(req, call, stmt.run(), (res) => {
            const w = scratch.reset();
            w.f64(res?.meta?.changes ?? 0); w.f64(res?.meta?.last_row_id ?? 0);
            return { bytes: w.done() };
          });
        }
        return;
      }
      case OP_D1_BATCH: {
        const r = new Reader(bytes);
        const db = req.env[r.str()];
        if (!db) throw new Error("no such D1 binding");
        const stmts = [];
        for (let n = r.u32(); n > 0; n--) {
          const sql = r.str(), params = readParams(r);
          stmts.push(params.length ? db.prepare(sql).bind(...params) : db.prepare(sql));
        }
        this.#async(req, call, db.batch(stmts), (results) => {
          const w = scratch.reset();
          w.u32(results.length);
          for (const res of results) {
            w.f64(res?.meta?.changes ?? 0); w.f64(res?.meta?.last_row_id ?? 0);
            // A batch returns rows as objects: their keys, in order, are the columns.
            const rows = Array.isArray(res?.results) ? res.results : [];
            const cols = rows.length ? Object.keys(rows[0]) : [];
            w.u32(cols.length);
            for (const c of cols) w.str(c);
            w.u32(rows.length);
            for (const row of rows) for (const c of cols) writeValue(w, row[c]);
          }
          return { bytes: w.done() };
        });
        return;
      }
      case OP_PBKDF2: {
        // WebCrypto's PBKDF2 (native code) instead of Go's in wasm: Telegram's
        // 2FA derives its key with 100,000 rounds of HMAC-SHA512.
        const r = new Reader(bytes);
        const hash = r.str(), password = r.bytes().slice(), salt = r.bytes().slice(), iterations = r.u32(), bits = r.u32();
        const p = crypto.subtle.importKey("raw", password, "PBKDF2", false, ["deriveBits"])
          .then((key) => crypto.subtle.deriveBits({ name: "PBKDF2", hash, salt, iterations }, key, bits));
        this.#async(req, call, p, (buf) => ({ bytes: new Uint8Array(buf) }));
        return;
      }
      case OP_SOCK_OPEN:
        this.#openSocket(req, call, bytes);
        return;
      case OP_SOCK_READ: {
        const [id, s] = this.#socket(req, new Reader(bytes));
        this.#socketOp(req, s, call, s.reader.read(), ({ done, value }) => {
          // Reading has ended, and without allowHalfOpen so has writing:
          // workerd may leave a write to a connection the peer reset
          // unsettled, and Go would wait on it (holding up whatever waits
          // for that writer) until its own timeout. Close the socket now,
          // which fails what still waits on it.
          if (done && !s.allowHalfOpen) this.#closeSocket(req, id, "connection closed by the peer");
          return done ? { status: S_EOF, bytes: null } : { bytes: value };
        });
        return;
      }
      case OP_SOCK_WRITE: {
        const r = new Reader(bytes);
        const [, s] = this.#socket(req, r);
        this.#socketOp(req, s, call, s.writer.write(r.rest()), () => ({ bytes: null }));
        return;
      }
      case OP_SOCK_CLOSE: {
        const r = new Reader(bytes);
        const id = r.u32(), how = r.u8();
        if (how === 1) { // close the writing side only (a FIN); reading goes on
          const s = req.sockets?.get(id);
          if (!s) throw new Error("socket is closed");
          this.#socketOp(req, s, call, s.writer.close(), () => ({ bytes: null }));
          return;
        }
        this.#closeSocket(req, id, "socket closed");
        if (call) this.#complete(req, call, S_OK, null);
        return;
      }
      case OP_STATS:
        this.#completeText(req, call, S_OK, JSON.stringify(this.stats()));
        return;
      default:
        throw new Error(`bridge: unknown operation ${op}`);
    }
  }

  // #settle turns an RPC call's result into a value or a thrown Error.
  #settle(req, asJSON = false) {
    const b = req.result;
    const ok = b && b[0] === 1;
    if (ok && asJSON) return b.length > 1 ? b.subarray(1) : encoder.encode("null");
    const value = b && b.length > 1 ? JSON.parse(decoder.decode(b.subarray(1))) : null;
    if (ok) return value;
    throw errorFromJSON(value ?? { name: this.#errorName, message: "INTERNAL: no result", code: "INTERNAL" });
  }
}
