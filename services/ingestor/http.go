package main

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/communicator/communicator/authhttp"
	"github.com/communicator/communicator/telegramauth"
)

// The ingestor answers with the same envelope as auth-telegram:
// { success, data?, error?: { code, message } }.

type envelope struct {
	Success bool       `json:"success"`
	Data    any        `json:"data,omitempty"`
	Error   *errorBody `json:"error,omitempty"`
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeData(w http.ResponseWriter, status int, data any) {
	writeEnvelope(w, status, envelope{Success: true, Data: data})
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeEnvelope(w, status, envelope{Error: &errorBody{Code: code, Message: message}})
}

func writeEnvelope(w http.ResponseWriter, status int, e envelope) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(e)
}

func parseUserID(segment string) (int64, *telegramauth.Error) {
	id, err := authhttp.ParseUserID(segment)
	if err != nil {
		var te *telegramauth.Error
		if errors.As(err, &te) {
			return 0, te
		}
		return 0, telegramauth.NewError(telegramauth.CodeInvalidArgument, "userId is not valid")
	}
	return id, nil
}

func asError(err error, target **telegramauth.Error) bool { return errors.As(err, target) }

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
