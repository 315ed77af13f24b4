package main

import (
	"net/http"
	"time"

	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/telegramauth"
)

// The ingestor answers with auth-telegram's envelope,
// { success, data?, error?: { code, message } } (httpapi.WriteData and
// httpapi.WriteError).

func writeError(w http.ResponseWriter, status int, code telegramauth.Code, message string) {
	httpapi.WriteError(w, status, telegramauth.NewError(code, message))
}

// isoTime formats t as JavaScript's toISOString does.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
