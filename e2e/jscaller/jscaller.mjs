// POST / with {"binding": "...", "method": "...", "args": [...]} calls
// env[binding][method](...args) and answers what a JavaScript caller sees:
// {ok, value} or {ok: false, error: {name, message, code, sessionId, reason, retryAfter, isError}}.
// Arguments JSON cannot express are written {"$": "Infinity" | "-Infinity" |
// "NaN" | "2^53" | "undefined" | "bigint"}.
const special = { Infinity: Infinity, "-Infinity": -Infinity, NaN: NaN, "2^53": 2 ** 53, undefined: undefined };

function decode(v) {
  if (v && typeof v === "object" && !Array.isArray(v) && "$" in v) {
    if (v.$ === "bigint") return 10n;
    return special[v.$];
  }
  return v;
}

export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname === "/health") return Response.json({ status: "ok" });
    const { binding = "TELEGRAM_AUTH", method, args = [] } = await request.json();
    try {
      const value = await env[binding][method](...args.map(decode));
      return Response.json({ ok: true, value });
    } catch (e) {
      return Response.json({
        ok: false,
        error: { name: e.name, message: e.message, code: e.code, sessionId: e.sessionId, reason: e.reason, retryAfter: e.retryAfter, isError: e instanceof Error },
      });
    }
  },
};
