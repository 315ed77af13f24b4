// The local router of `make dev`, the tests and the benchmarks; never
// deployed. `wrangler dev` gives only its first config an HTTP port, so this
// worker takes the port and every other worker runs beside it in the same
// workerd, bound to it: "/<worker>/..." goes to that worker with the prefix
// removed, anything else to the first worker (DEFAULT_BINDING).
// "/<worker>/__scheduled?cron=..." runs that worker's scheduled handler, as
// `wrangler dev --test-scheduled` does for a worker with its own port.
// "/__devstack/id" answers DEVSTACK_ID, a token devstack writes into this
// router's vars: its readiness wait requires it, so that it never mistakes
// another program on the port for the stack it started.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/__devstack/id") {
      return new Response(env.DEVSTACK_ID);
    }
    const routes = JSON.parse(env.ROUTES); // {"auth-telegram": "AUTH_TELEGRAM", ...}
    const slash = url.pathname.indexOf("/", 1);
    const first = url.pathname.slice(1, slash < 0 ? undefined : slash);
    let target = env[env.DEFAULT_BINDING];
    if (Object.hasOwn(routes, first)) {
      target = env[routes[first]];
      url.pathname = slash < 0 ? "/" : url.pathname.slice(slash);
    }
    if (url.pathname === "/__scheduled" && target !== env[env.DEFAULT_BINDING]) {
      const cron = url.searchParams.get("cron") ?? "";
      try {
        // Fetcher.scheduled resolves with { outcome, noRetry } where the
        // runtime reports it, and with nothing in local workerd.
        const result = await target.scheduled({ cron, scheduledTime: Date.now() });
        const ok = result === undefined || result.outcome === "ok";
        return Response.json(result ?? { outcome: "ok" }, { status: ok ? 200 : 500 });
      } catch (e) {
        return Response.json({ outcome: "exception", message: String(e?.message ?? e) }, { status: 500 });
      }
    }
    return target.fetch(new Request(url, request));
  },
};
