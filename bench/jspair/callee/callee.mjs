// A plain JavaScript worker with the same session-shaped method as the Go
// bridge test worker: the baseline of the RPC benchmarks.
import { WorkerEntrypoint } from "cloudflare:workers";

const sessionString = "1" + "AgAOMTQ5LjE1NC4xNjcuNTABu5jSn7Iq".repeat(11) + "kF1txy5EAZA4GiGuN7tKJostHZQ=";

export default class JSCallee extends WorkerEntrypoint {
  fetch() { return new Response("bridge-jscallee\n"); }
  session(userId) {
    return { sessionString, sessionId: "ses_aaaaaaaaaaaaaaaaaaaaaaaaaa", userId, expiresAt: "2027-02-24T12:00:00.000Z" };
  }
}
