// Package authhttp is auth-telegram's HTTP API: the server (NewHandler, a
// net/http.Handler) and a client (NewClient) that implements
// telegramauth.Service over it, for callers without the TELEGRAM_AUTH service
// binding.
//
// Routes, under the base path /api/telegram-auth (HandlerConfig.BasePath):
//
//	GET    /health                    no auth; also served at the root (/health)
//	GET    /sessions/user/:userId     Service.GetSessionByUserID
//	GET    /sessions/list/:userId     Service.ListSessions
//	DELETE /sessions/:sessionId       Service.RevokeSession
//	POST   /sessions/import           Service.ImportSession, 201 on success
//	GET    /stats                     the answering isolate's memory (HandlerConfig.Stats), read_stats permission
//
// Every body is the envelope {"success": bool, "data"?: ..., "error"?: {"code",
// "message", "sessionId"?}} with Content-Type application/json; charset=utf-8
// and Cache-Control: no-store (bodies carry session strings). Times are ISO 8601
// UTC with milliseconds, as JavaScript's Date.prototype.toISOString writes them;
// unset lastUsedAt/revokedAt are null.
//
// Every route but health needs "Authorization: ApiKey <key>" and
// "X-Service-ID: <id>". Keys are configured as SHA-256 hashes per service id
// (ParseAPIKeys) and compared in constant time.
//
// Decisions a caller can observe:
//
//   - Status follows the error code (telegramauth.Code.HTTPStatus), except for
//     three statuses HTTP itself dictates, which carry INVALID_ARGUMENT (the
//     request is wrong and retrying it cannot help): 404 for an unknown route,
//     405 (with an Allow header) for a known route with another method, 413 for
//     a body over MaxBodyBytes. The contract has no NOT_FOUND code, and
//     SESSION_NOT_FOUND would tell a caller with a misconfigured endpoint that
//     the user has no session.
//   - Route matching (404/405) happens before authentication: the route table
//     is public. Authentication happens before any input validation and before
//     the body is read.
//   - userId in a path is canonical base-10: digits only, no sign, no spaces,
//     no leading zeros ("05" is rejected: a JavaScript number never prints that
//     way, and one user has one URL), 1 ≤ id ≤ 2^53-1.
//   - userId in the import body must be a JSON number written as an integer:
//     "42" (a string), 42.0, 4.2e1 and 1.5 are rejected. JavaScript's
//     JSON.stringify writes every safe integer as plain digits, and the earlier
//     TypeScript client sends numbers.
//   - sessionId is "ses_" followed by 26 characters of lower-case base32
//     (a-z, 2-7), the form the vault generates; whether it exists is the
//     service's decision.
//   - Health answers 200 when every check passes and 503 UNAVAILABLE (with the
//     same data, status "degraded") when one fails, so monitors can go by the
//     status code.
//   - Error messages quote at most a short, sanitized prefix of a path
//     segment, and never anything from a request body or the Authorization
//     header. Errors the service returns that are not *telegramauth.Error
//     become 500 INTERNAL "internal error".
package authhttp
