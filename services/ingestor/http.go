package main

import (
	"net/http"
	"time"

	"github.com/communicator/communicator/authhttp"
	"github.com/communicator/communicator/telegramauth"
)

// The ingestor answers with auth-telegram's envelope,
// { success, data?, error?: { code, message } } (authhttp.WriteData and
// authhttp.WriteError).

func writeError(w http.ResponseWriter, status int, code telegramauth.Code, message string) {
	authhttp.WriteError(w, status, telegramauth.NewError(code, message))
}

// isoTime formats t as JavaScript's toISOString does.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
