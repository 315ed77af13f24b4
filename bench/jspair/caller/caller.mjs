// A plain JavaScript worker that calls over a binding n times per request:
// the JavaScript pair the Go pair is compared with. GET /?n= calls the
// session-shaped method of the JavaScript callee; GET /auth?n=&user= hands
// out a session from auth-telegram (getSessionByUserId), as the ingestor
// does on a cache miss; GET /remote?n= calls the same method as / on the
// callee's copy in another workerd (bench-jsremote).
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
      for (let i = 0; i < n; i++) {
        const s = await peer.session(7);
        if (s.userId !== 7) throw new Error("bad answer");
      }
    }
    return Response.json({ calls: n, ms: Date.now() - start });
  },
};
