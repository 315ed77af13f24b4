// Package vault is auth-telegram's domain: it keeps users' Telegram sessions
// sealed at rest (Sealer), stores them with an access log over database/sql
// (the same SQL on Cloudflare D1 and on SQLite), and implements
// telegramauth.Service with per-caller authorization (Service).
//
// The database is used the way D1's driver allows: reads happen outside
// transactions, and a transaction only groups writes that must succeed or fail
// together (on D1 it is one `batch`, which cannot read or report affected rows
// before it commits; on SQLite it is an ordinary transaction).
//
// Layout: seal.go (Sealer: AES-256-GCM under an HKDF-derived key, rotation),
// store.go (the SQL), service.go (Service: sessions and the access log),
// login.go and loginstore.go (the login steps, their sealed state in the
// logins table), telegram.go (Telegram: what a login asks of Telegram),
// telegramstate.go (rejected sessions, logouts of revoked ones), caller.go
// (Caller, the default policy), refusals.go (Authorize, counted refusals).
// The schema is services/auth-telegram/migrations.
package vault
