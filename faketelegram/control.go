package faketelegram

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// ControlHandler returns an HTTP API for driving the server from another
// process (cmd/faketelegram -control). Bodies are JSON; errors are 400 (or
// 404/405) with {"error": "...", "field": "..."}.
//
//	POST   /faults  {"kind":"floodWait","method":"users.getUsers","seconds":3,"times":1}
//	                {"kind":"drop","method":"*","times":1}
//	                {"kind":"slow","method":"messages.getHistory","delayMs":500,"times":0}
//	DELETE /faults  clears every fault
//	POST   /mint    {"userId":1001}          → {"userId":1001,"session":"1..."}
//	POST   /revoke  {"session":"1..."}       → {"revoked":true}
//	GET    /calls?method=users.getUsers      → {"method":"users.getUsers","calls":2}
//
// Serve it on loopback only: it hands out sessions.
func (s *Server) ControlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /faults", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Kind    string `json:"kind"`
			Method  string `json:"method"`
			Seconds int    `json:"seconds"`
			DelayMs int    `json:"delayMs"`
			Times   int    `json:"times"`
		}
		if !decode(w, r, &in) {
			return
		}
		if in.Method == "" {
			fail(w, http.StatusBadRequest, "method", "method is required (a TL name such as users.getUsers, or *)")
			return
		}
		switch in.Kind {
		case "floodWait":
			if in.Seconds <= 0 {
				fail(w, http.StatusBadRequest, "seconds", "seconds must be positive")
				return
			}
			s.FloodWait(in.Method, in.Seconds, in.Times)
		case "drop":
			s.DropConnections(in.Method, in.Times)
		case "slow":
			if in.DelayMs <= 0 {
				fail(w, http.StatusBadRequest, "delayMs", "delayMs must be positive")
				return
			}
			s.Slow(in.Method, time.Duration(in.DelayMs)*time.Millisecond, in.Times)
		default:
			fail(w, http.StatusBadRequest, "kind", `kind must be "floodWait", "drop" or "slow"`)
			return
		}
		reply(w, map[string]any{"ok": true})
	})
	mux.HandleFunc("DELETE /faults", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFaults()
		reply(w, map[string]any{"ok": true})
	})
	mux.HandleFunc("POST /mint", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			UserID int64 `json:"userId"`
		}
		if !decode(w, r, &in) {
			return
		}
		if _, ok := s.fx.User(in.UserID); !ok {
			fail(w, http.StatusBadRequest, "userId", fmt.Sprintf("no fixture user %d", in.UserID))
			return
		}
		sess, err := s.MintSession(r.Context(), in.UserID)
		if err != nil {
			fail(w, http.StatusInternalServerError, "", err.Error())
			return
		}
		reply(w, map[string]any{"userId": in.UserID, "session": sess})
	})
	mux.HandleFunc("POST /revoke", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Session string `json:"session"`
		}
		if !decode(w, r, &in) {
			return
		}
		if err := s.RevokeSession(in.Session); err != nil {
			fail(w, http.StatusBadRequest, "session", err.Error()) // sessionstring errors never quote the input
			return
		}
		reply(w, map[string]any{"revoked": true})
	})
	mux.HandleFunc("GET /calls", func(w http.ResponseWriter, r *http.Request) {
		m := r.URL.Query().Get("method")
		if m == "" {
			fail(w, http.StatusBadRequest, "method", "method is required")
			return
		}
		reply(w, map[string]any{"method": m, "calls": s.Calls(m)})
	})
	return mux
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		field := ""
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field = te.Field
		}
		fail(w, http.StatusBadRequest, field, "bad JSON body: "+err.Error())
		return false
	}
	return true
}

func fail(w http.ResponseWriter, status int, field, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg, "field": field})
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
