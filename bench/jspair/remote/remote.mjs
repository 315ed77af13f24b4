// The JavaScript callee's session-shaped method (../callee), under a name of
// its own so that it can run in another workerd than the JavaScript pair.
import { WorkerEntrypoint } from "cloudflare:workers";

const sessionString = "1" + "AgAOMTQ5LjE1NC4xNjcuNTABu5jSn7Iq".repeat(11) + "kF1txy5EAZA4GiGuN7tKJostHZQ=";

export default class JSRemote extends WorkerEntrypoint {
  fetch() { return new Response("bench-jsremote\n"); }
  session(userId) {
    return { sessionString, sessionId: "ses_aaaaaaaaaaaaaaaaaaaaaaaaaa", userId, expiresAt: "2027-02-24T12:00:00.000Z" };
  }
}
