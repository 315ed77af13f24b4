package faketelegram

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ControlHandler returns an HTTP API for driving the server from another
// process (cmd/faketelegram -control). Bodies are JSON; errors are 400 (or
// 404/405) with {"error": "...", "field": "..."}. A peer is a chat as the
// user sees it: {"user":1002} (their private chat with 1002), {"chat":5001}
// or {"channel":1700000001}.
//
//	POST   /faults  {"kind":"floodWait","method":"users.getUsers","seconds":3,"times":1}
//	                {"kind":"drop","method":"messages.getHistory","after":2,"times":1}
//	                {"kind":"slow","method":"messages.getDialogs","delayMs":500,"times":0}
//	                after: calls of method let through first (after 2: the 3rd call from now
//	                is the first to fail); times <= 0: until DELETE /faults (see AddFault)
//	DELETE /faults  clears every fault
//	POST   /mint    {"userId":1001,"dc":0}   → {"userId":1001,"dc":2,"session":"1..."} (dc 0: the main DC)
//	POST   /revoke  {"session":"1..."}       → {"revoked":true}
//	GET    /calls?method=messages.getHistory → {"method":"messages.getHistory","calls":2} (method=* for all)
//	DELETE /calls   sets every call count to zero
//	POST   /messages         {"userId":1001,"peer":{"user":1002},"from":1002,"text":"hi",
//	                          "entities":[{"type":"bold","offset":0,"length":2}],"replyTo":0,"date":0}
//	                          → {"message":{"peer":{"user":1002},"id":5902,"date":...,"from":1002,"text":"hi",...}}
//	POST   /messages/edit    {"userId":1001,"peer":{"user":1002},"id":5902,"text":"hello","entities":[],"editDate":0}
//	                          → {"message":{...,"editDate":...}}
//	POST   /messages/delete  {"userId":1001,"peer":{"user":1002},"ids":[5902]} → {"deleted":1}
//	GET    /dialogs?userId=1001 → {"userId":1001,"dialogs":[{"peer":...,"pinned":true,"topMessage":...,
//	                          "readInboxMaxId":...,"readOutboxMaxId":...,"unreadCount":...,"messages":[...]}]}
//	GET    /digest?userId=1001  → {"userId":1001,"dialogs":30,"messages":5512,"checksum":"<sha256 hex>"}
//	GET    /codes?phone=15550101002 → {"phone":"15550101002","code":"01002","type":"app","sends":1,
//	                          "sentAt":"2006-01-02T15:04:05Z"} (404 when no code was sent to the phone)
//	POST   /qr/scan  {"token":"<base64url>","userId":1003} → {"ok":true,"userId":1003}
//	                          (404 AUTH_TOKEN_INVALID; 400 AUTH_TOKEN_EXPIRED, AUTH_TOKEN_ALREADY_ACCEPTED)
//
// See PostMessage, EditMessage, DeleteMessages, Dialogs, Checksum,
// LastCode and ScanLoginToken for what they do. Serve it on loopback only:
// it hands out sessions and login codes.
func (s *Server) ControlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /faults", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Kind    string `json:"kind"`
			Method  string `json:"method"`
			Seconds int    `json:"seconds"`
			DelayMs int    `json:"delayMs"`
			After   int    `json:"after"`
			Times   int    `json:"times"`
		}
		if !decode(w, r, &in) {
			return
		}
		f := Fault{Kind: in.Kind, Method: in.Method, Seconds: in.Seconds, Delay: time.Duration(in.DelayMs) * time.Millisecond, After: in.After, Times: in.Times}
		if err := s.AddFault(f); err != nil {
			failErr(w, err)
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
			DC     int   `json:"dc"`
		}
		if !decode(w, r, &in) {
			return
		}
		if _, ok := s.fx.User(in.UserID); !ok {
			fail(w, http.StatusBadRequest, "userId", fmt.Sprintf("no fixture user %d", in.UserID))
			return
		}
		if in.DC == 0 {
			in.DC = s.dc
		}
		if _, ok := s.dcs[in.DC]; !ok {
			fail(w, http.StatusBadRequest, "dc", fmt.Sprintf("dc %d is not served here", in.DC))
			return
		}
		sess, err := s.MintSessionOn(r.Context(), in.DC, in.UserID)
		if err != nil {
			fail(w, http.StatusInternalServerError, "", err.Error())
			return
		}
		reply(w, map[string]any{"userId": in.UserID, "dc": in.DC, "session": sess})
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
	mux.HandleFunc("DELETE /calls", func(w http.ResponseWriter, r *http.Request) {
		s.ResetCalls()
		reply(w, map[string]any{"ok": true})
	})
	mux.HandleFunc("POST /messages", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			UserID   int64           `json:"userId"`
			Peer     Peer            `json:"peer"`
			From     int64           `json:"from"`
			Text     string          `json:"text"`
			Entities []FixtureEntity `json:"entities"`
			ReplyTo  int             `json:"replyTo"`
			Date     int             `json:"date"`
		}
		if !decode(w, r, &in) {
			return
		}
		m, err := s.PostMessage(in.UserID, in.Peer, Post{From: in.From, Text: in.Text, Entities: in.Entities, ReplyTo: in.ReplyTo, Date: in.Date})
		if err != nil {
			failErr(w, err)
			return
		}
		reply(w, map[string]any{"message": m})
	})
	mux.HandleFunc("POST /messages/edit", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			UserID   int64           `json:"userId"`
			Peer     Peer            `json:"peer"`
			ID       int             `json:"id"`
			Text     string          `json:"text"`
			Entities []FixtureEntity `json:"entities"`
			EditDate int             `json:"editDate"`
		}
		if !decode(w, r, &in) {
			return
		}
		m, err := s.EditMessage(in.UserID, in.Peer, in.ID, Edit{Text: in.Text, Entities: in.Entities, Date: in.EditDate})
		if err != nil {
			failErr(w, err)
			return
		}
		reply(w, map[string]any{"message": m})
	})
	mux.HandleFunc("POST /messages/delete", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			UserID int64 `json:"userId"`
			Peer   Peer  `json:"peer"`
			IDs    []int `json:"ids"`
		}
		if !decode(w, r, &in) {
			return
		}
		if err := s.DeleteMessages(in.UserID, in.Peer, in.IDs...); err != nil {
			failErr(w, err)
			return
		}
		reply(w, map[string]any{"deleted": len(in.IDs)})
	})
	mux.HandleFunc("GET /dialogs", func(w http.ResponseWriter, r *http.Request) {
		user, ok := queryUser(w, r)
		if !ok {
			return
		}
		ds, err := s.Dialogs(user)
		if err != nil {
			failErr(w, err)
			return
		}
		reply(w, map[string]any{"userId": user, "dialogs": ds})
	})
	mux.HandleFunc("GET /digest", func(w http.ResponseWriter, r *http.Request) {
		user, ok := queryUser(w, r)
		if !ok {
			return
		}
		d, err := s.Digest(user)
		if err != nil {
			failErr(w, err)
			return
		}
		reply(w, map[string]any{"userId": user, "dialogs": d.Dialogs, "messages": d.Messages, "checksum": d.Checksum})
	})
	mux.HandleFunc("GET /codes", func(w http.ResponseWriter, r *http.Request) {
		raw := r.URL.Query().Get("phone")
		if raw == "" {
			fail(w, http.StatusBadRequest, "phone", "phone is required")
			return
		}
		if !phoneLike(raw) {
			fail(w, http.StatusBadRequest, "phone", "phone must be 1 to 15 digits, with '+', spaces, dashes, dots or parentheses at most")
			return
		}
		c, ok := s.LastCode(raw)
		if !ok {
			fail(w, http.StatusNotFound, "phone", "no code was sent to this phone")
			return
		}
		reply(w, map[string]any{"phone": c.Phone, "code": c.Code, "type": c.Type, "sends": c.Sends, "sentAt": c.SentAt.UTC().Format(time.RFC3339)})
	})
	mux.HandleFunc("POST /qr/scan", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Token  string `json:"token"`
			UserID int64  `json:"userId"`
		}
		if !decode(w, r, &in) {
			return
		}
		// As tg://login?token= carries it: base64url, padded or not.
		token, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(in.Token, "="))
		if err != nil || len(token) == 0 {
			fail(w, http.StatusBadRequest, "token", "token must be the login token in base64url, as in tg://login?token=")
			return
		}
		if err := s.ScanLoginToken(token, in.UserID); err != nil {
			if errors.Is(err, ErrLoginTokenInvalid) {
				fail(w, http.StatusNotFound, "token", ErrLoginTokenInvalid.Error())
				return
			}
			failErr(w, err)
			return
		}
		reply(w, map[string]any{"ok": true, "userId": in.UserID})
	})
	return mux
}

// phoneLike reports whether p is a phone number as a person may write it:
// 1 to 15 digits, and '+', spaces, dashes, dots and parentheses.
func phoneLike(p string) bool {
	n := 0
	for _, r := range p {
		switch {
		case r >= '0' && r <= '9':
			n++
		case strings.ContainsRune("+ -.()", r):
		default:
			return false
		}
	}
	return n >= 1 && n <= 15
}

func queryUser(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.URL.Query().Get("userId"), 10, 64)
	if err != nil {
		fail(w, http.StatusBadRequest, "userId", "userId must be a fixture user id")
		return 0, false
	}
	return id, true
}

// failErr answers a refused change: 400 naming the field of an
// *InputError, else 500.
func failErr(w http.ResponseWriter, err error) {
	var ie *InputError
	if errors.As(err, &ie) {
		fail(w, http.StatusBadRequest, ie.Field, ie.Msg)
		return
	}
	fail(w, http.StatusInternalServerError, "", err.Error())
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
