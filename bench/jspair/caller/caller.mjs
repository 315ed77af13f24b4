// A plain JavaScript worker that calls the session-shaped method n times over
// a binding: the JavaScript pair the Go pair is compared with.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/health") return Response.json({ status: "ok" });
    const n = Number(url.searchParams.get("n") ?? 1000);
    const start = Date.now();
    for (let i = 0; i < n; i++) {
      const s = await env.PEER.session(7);
      if (s.userId !== 7) throw new Error("bad answer");
    }
    return Response.json({ calls: n, ms: Date.now() - start });
  },
};
