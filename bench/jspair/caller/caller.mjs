// A plain JavaScript worker that calls over a binding n times per request:
// the JavaScript pair the Go pair is compared with. GET /?n= calls the
// session-shaped method of the JavaScript callee; GET /auth?n=&user= hands
// out a session from auth-telegram (getSessionByUserId), as the ingestor
// does on a cache miss; GET /remote?n= calls the same method as / on the
// callee's copy in another workerd (bench-jsremote).
//
// touch=K (with / or /remote) first writes one byte in every 64-byte line of
// the next K KiB of an 8 MiB ring, before each call: a caller that pushes K KiB
// of other memory through the CPU's caches between calls, the control for how
// much a Go caller's own work slows workerd's (docs/bridge.md, "Where a
// Go→Go call's time goes"; go run ./bench/cmd/profile -native).
// K is whole KiB from 0 to 8192 (the ring); anything else is a 400 before
// any call.
const ringSize = 8 << 20;
let ring, at = 0;

// touchRing is its own function so that V8 optimizes it as a whole: a loop
// inside the request's long async function would run in V8's baseline code.
function touchRing(bytes) {
  ring ??= new Uint8Array(ringSize);
  for (let j = 0; j < bytes; j += 64) ring[(at + j) % ringSize]++;
  at = (at + bytes) % ringSize;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/health") return Response.json({ status: "ok" });
    const n = Number(url.searchParams.get("n") ?? 1000);
    const start = Date.now();
    if (url.pathname === "/auth") {
      const user = Number(url.searchParams.get("user") ?? 1);
      for (let i = 0; i < n; i++) {
        const s = await env.TELEGRAM_AUTH.getSessionByUserId(user);
        if (s.userId !== user) throw new Error("bad answer");
      }
    } else {
      const peer = url.pathname === "/remote" ? env.REMOTE : env.PEER;
      const touch = url.searchParams.get("touch") ?? "0";
      const kib = /^[0-9]{1,5}$/.test(touch) ? Number(touch) : NaN;
      if (!(kib <= ringSize / 1024)) {
        return Response.json({ error: `touch=${touch.slice(0, 32)}: want whole KiB from 0 to ${ringSize / 1024}` }, { status: 400 });
      }
      for (let i = 0; i < n; i++) {
        if (kib > 0) touchRing(kib * 1024);
        const s = await peer.session(7);
        if (s.userId !== 7) throw new Error("bad answer");
      }
    }
    return Response.json({ calls: n, ms: Date.now() - start });
  },
};
