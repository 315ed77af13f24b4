// Package faketelegram is a fake Telegram data center for tests and local
// development, built on gotd's tgtest MTProto server. It listens on
// loopback only and serves a fixture (users, private chats, basic groups,
// channels, messages); see README.md for the shipped fixture's users, phone
// numbers, login codes and 2FA passwords.
//
// Methods: help.getConfig (listing the server's DCs), auth.sendCode,
// auth.resendCode, auth.cancelCode, auth.signIn, account.getPassword and
// auth.checkPassword (real SRP), auth.exportLoginToken and
// auth.importLoginToken (QR login), auth.logOut, users.getUsers,
// updates.getState, messages.getDialogs (pinned dialogs first, unread
// counts, offset_date/offset_id/offset_peer paging) and messages.getHistory
// with Telegram's paging (offset_id, offset_date, add_offset, limit capped
// at 100, min_id/max_id, hash). Anything else is 400 INPUT_METHOD_INVALID.
// An auth key that is not logged in gets 401 AUTH_KEY_UNREGISTERED except
// for help.getConfig, help.getNearestDc and the login methods.
//
// One process serves the main DC (2) and the DCs some users live on
// (Options.HomeDCs; by default users 1005 and 1006 live on DC 4), each on
// its own port (DCAddrs) with its own auth keys and everything else shared:
// auth.sendCode for a user of another DC answers 303 PHONE_MIGRATE_<dc>,
// and a QR login of such a user answers auth.loginTokenMigrateTo.
// LastCode tells the login code last sent to a phone; ScanLoginToken does
// what scanning a QR login code in a logged-in app does.
//
// PostMessage, EditMessage and DeleteMessages change a server's messages
// (never the Fixture, which servers may share), and what it answers
// follows; Dialogs, Digest and Checksum describe what it serves now, for a
// test to compare with what a client stored.
//
// MintSession (MintSessionOn for another DC) logs a fresh auth key in as a
// fixture user (one real key exchange) and returns a GramJS string session
// the server accepts from then on. AddFault (at the next call of a method or after N calls),
// FloodWait, DropConnections, Slow, RevokeSession and ClearFaults make it
// misbehave; Calls, ResetCalls and KeyExchanges let tests check what
// happened.
//
// cmd/faketelegram runs it as a process and prints its addresses, public
// key and minted sessions as one JSON line.
package faketelegram
