// Package faketelegram is a fake Telegram data center for tests and local
// development, built on gotd's tgtest MTProto server. It listens on
// loopback only and serves a fixture (users, private chats, basic groups,
// channels, messages); see README.md for the shipped fixture's users, phone
// numbers, login codes and 2FA passwords.
//
// Methods: help.getConfig (pointing at the server itself), auth.sendCode,
// auth.signIn, account.getPassword and auth.checkPassword (real SRP),
// auth.logOut, users.getUsers, updates.getState, messages.getDialogs (pinned
// dialogs first, unread counts, offset_date/offset_id/offset_peer paging)
// and messages.getHistory with Telegram's paging (offset_id, offset_date,
// add_offset, limit capped at 100, min_id/max_id, hash). Anything else is
// 400 INPUT_METHOD_INVALID. An auth key that is not logged in gets 401
// AUTH_KEY_UNREGISTERED except for help.getConfig, help.getNearestDc and the
// login methods.
//
// PostMessage, EditMessage and DeleteMessages change a server's messages
// (never the Fixture, which servers may share), and what it answers
// follows; Dialogs, Digest and Checksum describe what it serves now, for a
// test to compare with what a client stored.
//
// MintSession logs a fresh auth key in as a fixture user (one real key
// exchange) and returns a GramJS string session the server accepts from
// then on. AddFault (at the next call of a method or after N calls),
// FloodWait, DropConnections, Slow, RevokeSession and ClearFaults make it
// misbehave; Calls, ResetCalls and KeyExchanges let tests check what
// happened.
//
// cmd/faketelegram runs it as a process and prints its address, public key
// and minted sessions as one JSON line.
package faketelegram
