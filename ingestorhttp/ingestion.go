package ingestorhttp

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/ingest"
	"github.com/communicator/communicator/telegramauth"
)

// deleteWait is how long DELETE /v1/users/{userId} waits for a running
// slice to stop before answering 503.
const deleteWait = 10 * time.Second

// syncStatus is an account's ingestion as the API answers it.
type syncStatus struct {
	UserID         int64   `json:"userId"`
	State          string  `json:"state"` // idle, queued, syncing, flood_wait, needs_login, paused
	Phase          string  `json:"phase"` // dialogs, history, done
	SyncID         string  `json:"syncId"`
	Started        *bool   `json:"started,omitempty"` // POST: whether this request queued a new sync
	DialogsTotal   int     `json:"dialogsTotal"`
	DialogsDone    int     `json:"dialogsDone"`
	MessagesStored int     `json:"messagesStored"`
	Slices         int     `json:"slices"`
	CreatedAt      string  `json:"createdAt"`
	StartedAt      *string `json:"startedAt"`
	LastSuccessAt  *string `json:"lastSuccessAt"`
	LastError      string  `json:"lastError,omitempty"`
	LastErrorAt    *string `json:"lastErrorAt"`
	NextRunAt      string  `json:"nextRunAt"`
	FloodWaitUntil *string `json:"floodWaitUntil"`
}

func optTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := httpapi.ISOTime(t)
	return &s
}

func toSyncStatus(st ingest.Status) syncStatus {
	return syncStatus{
		UserID: st.UserID, State: st.State, Phase: st.Phase, SyncID: st.SyncID, DialogsTotal: st.DialogsTotal,
		DialogsDone: st.DialogsDone, MessagesStored: st.MessagesStored, Slices: st.Slices,
		CreatedAt: httpapi.ISOTime(st.CreatedAt), StartedAt: optTime(st.StartedAt), LastSuccessAt: optTime(st.LastSuccessAt),
		LastError: st.LastError, LastErrorAt: optTime(st.LastErrorAt), NextRunAt: httpapi.ISOTime(st.NextRunAt),
		FloodWaitUntil: optTime(st.FloodWaitUntil),
	}
}

type dialogJSON struct {
	Peer            string `json:"peer"`
	Title           string `json:"title"`
	UnreadCount     int    `json:"unreadCount"`
	Pinned          bool   `json:"pinned"`
	LastMessageID   int    `json:"lastMessageId"`
	LastMessageDate string `json:"lastMessageDate"`
	MessagesStored  int    `json:"messagesStored"`
	Complete        bool   `json:"complete"` // history read as far as INGEST_HISTORY_LIMIT allows
}

type messageJSON struct {
	ID        int             `json:"id"`
	Peer      string          `json:"peer"`
	Sender    *string         `json:"sender"`
	Date      string          `json:"date"`
	EditDate  *string         `json:"editDate"`
	Text      string          `json:"text"`
	Entities  json.RawMessage `json:"entities,omitempty"`
	ReplyToID *int            `json:"replyToId"`
	Forward   json.RawMessage `json:"forward,omitempty"`
	Media     json.RawMessage `json:"media,omitempty"`
	Action    *string         `json:"action"`
	Views     *int            `json:"views"`
	GroupedID *string         `json:"groupedId"`
}

func opt[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

func toMessageJSON(m ingest.Message) messageJSON {
	out := messageJSON{ID: m.ID, Peer: m.Peer, Sender: opt(m.Sender), Date: httpapi.ISOTime(m.Date), EditDate: optTime(m.EditDate),
		Text: m.Text, Entities: m.Entities, ReplyToID: opt(m.ReplyToID), Forward: m.Forward, Media: m.Media,
		Action: opt(m.Action), Views: opt(m.Views)}
	if m.GroupedID != 0 {
		g := strconv.FormatInt(m.GroupedID, 10)
		out.GroupedID = &g
	}
	return out
}

// ingestUser is the route's {userId}, once ingestion is configured;
// otherwise it has answered and ok is false.
func (a *api) ingestUser(w http.ResponseWriter, r *http.Request) (int64, bool) {
	if a.Ingest == nil {
		notConfigured(w, "ingestion", a.IngestErr)
		return 0, false
	}
	userID, e := httpapi.ParseUserID(r.PathValue("userId"))
	if e != nil {
		httpapi.WriteError(w, 0, e)
		return 0, false
	}
	return userID, true
}

// query checks a request's query parameters: only known ones, each once.
func query(r *http.Request, known ...string) (url.Values, *telegramauth.Error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, httpapi.Invalid("the query string is malformed")
	}
	for k, vs := range q {
		ok := false
		for _, kn := range known {
			ok = ok || k == kn
		}
		switch {
		case !ok:
			return nil, httpapi.Invalid("unknown parameter " + httpapi.Quote(k))
		case len(vs) > 1:
			return nil, httpapi.Invalid(k + " is given more than once")
		}
	}
	return q, nil
}

// limitParam reads ?limit: 1 to ingest.MaxListLimit, default ingest.DefaultListLimit.
func limitParam(q url.Values) (int, *telegramauth.Error) {
	s := q.Get("limit")
	if s == "" {
		return ingest.DefaultListLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > ingest.MaxListLimit {
		return 0, httpapi.Invalid("limit must be a whole number from 1 to " + strconv.Itoa(ingest.MaxListLimit) + ", got " + httpapi.Quote(s))
	}
	return n, nil
}

// notRegistered answers for an account that is not registered for ingestion.
func notRegistered(w http.ResponseWriter, userID int64) {
	id := strconv.FormatInt(userID, 10)
	httpapi.WriteError(w, http.StatusNotFound, httpapi.Invalid("user "+id+" is not registered for ingestion: POST /v1/users/"+id+"/sync starts it"))
}

// writeIngestError answers a failure of the ingestion store.
func (a *api) writeIngestError(w http.ResponseWriter, userID int64, err error) {
	switch {
	case errors.Is(err, ingest.ErrNotFound):
		notRegistered(w, userID)
	case errors.Is(err, ingest.ErrBusy):
		httpapi.WriteError(w, 0, telegramauth.NewError(telegramauth.CodeUnavailable, "a sync slice of this account is still running; retry in a few seconds"))
	default:
		a.Log.Error("ingestion's databases did not answer", "user_id", userID, "err", err.Error())
		httpapi.WriteError(w, 0, telegramauth.NewError(telegramauth.CodeUnavailable, "the ingestor's databases did not answer"))
	}
}

// startSync registers the account if it is new and queues a sync now.
func (a *api) startSync(w http.ResponseWriter, r *http.Request, caller string) {
	userID, ok := a.ingestUser(w, r)
	if !ok {
		return
	}
	if _, e := query(r); e != nil {
		httpapi.WriteError(w, 0, e)
		return
	}
	st, started, err := a.Ingest.StartSync(r.Context(), userID)
	if err != nil {
		a.writeIngestError(w, userID, err)
		return
	}
	a.Log.Info("sync requested", "caller", caller, "user_id", userID, "sync_id", st.SyncID, "started", started)
	out := toSyncStatus(st)
	out.Started = &started
	httpapi.WriteData(w, http.StatusAccepted, out)
}

// syncStatus reports an account's ingestion.
func (a *api) syncStatus(w http.ResponseWriter, r *http.Request, _ string) {
	userID, ok := a.ingestUser(w, r)
	if !ok {
		return
	}
	if _, e := query(r); e != nil {
		httpapi.WriteError(w, 0, e)
		return
	}
	st, err := a.Ingest.Status(r.Context(), userID)
	if err != nil {
		a.writeIngestError(w, userID, err)
		return
	}
	httpapi.WriteData(w, http.StatusOK, toSyncStatus(st))
}

// pauseSync stops an account's ingestion until the next POST.
func (a *api) pauseSync(w http.ResponseWriter, r *http.Request, caller string) {
	userID, ok := a.ingestUser(w, r)
	if !ok {
		return
	}
	if _, e := query(r); e != nil {
		httpapi.WriteError(w, 0, e)
		return
	}
	st, err := a.Ingest.Pause(r.Context(), userID)
	if err != nil {
		a.writeIngestError(w, userID, err)
		return
	}
	a.Log.Info("sync paused", "caller", caller, "user_id", userID)
	httpapi.WriteData(w, http.StatusOK, toSyncStatus(st))
}

// deleteUser stops ingesting the account and deletes what is stored for it.
func (a *api) deleteUser(w http.ResponseWriter, r *http.Request, caller string) {
	userID, ok := a.ingestUser(w, r)
	if !ok {
		return
	}
	if _, e := query(r); e != nil {
		httpapi.WriteError(w, 0, e)
		return
	}
	if err := a.Ingest.Delete(r.Context(), userID, deleteWait); err != nil {
		a.writeIngestError(w, userID, err)
		return
	}
	a.Log.Info("account deleted from ingestion", "caller", caller, "user_id", userID)
	httpapi.WriteData(w, http.StatusOK, map[string]any{"userId": userID, "deleted": true})
}

// listDialogs lists an account's stored dialogs, newest activity first.
func (a *api) listDialogs(w http.ResponseWriter, r *http.Request, _ string) {
	userID, ok := a.ingestUser(w, r)
	if !ok {
		return
	}
	q, e := query(r, "limit", "cursor")
	if e != nil {
		httpapi.WriteError(w, 0, e)
		return
	}
	limit, e := limitParam(q)
	if e != nil {
		httpapi.WriteError(w, 0, e)
		return
	}
	dialogs, next, err := a.Ingest.Dialogs(r.Context(), userID, limit, q.Get("cursor"))
	if errors.Is(err, ingest.ErrBadCursor) {
		httpapi.WriteError(w, 0, httpapi.Invalid("cursor is not one this API gave out"))
		return
	}
	if err != nil {
		a.writeIngestError(w, userID, err)
		return
	}
	out := make([]dialogJSON, len(dialogs))
	for i, d := range dialogs {
		out[i] = dialogJSON{Peer: d.Peer, Title: d.Title, UnreadCount: d.UnreadCount, Pinned: d.Pinned, LastMessageID: d.LastMessageID,
			LastMessageDate: httpapi.ISOTime(d.LastMessageDate), MessagesStored: d.Stored, Complete: d.Complete}
	}
	httpapi.WriteData(w, http.StatusOK, map[string]any{"dialogs": out, "nextCursor": opt(next)})
}

// listMessages lists a dialog's stored messages, newest first.
func (a *api) listMessages(w http.ResponseWriter, r *http.Request, _ string) {
	userID, ok := a.ingestUser(w, r)
	if !ok {
		return
	}
	peer := r.PathValue("peer")
	if !ingest.ValidPeer(peer) {
		httpapi.WriteError(w, 0, httpapi.Invalid(`peer must be "user:ID", "chat:ID" or "channel:ID", got `+httpapi.Quote(peer)))
		return
	}
	q, e := query(r, "limit", "before")
	if e != nil {
		httpapi.WriteError(w, 0, e)
		return
	}
	limit, e := limitParam(q)
	if e != nil {
		httpapi.WriteError(w, 0, e)
		return
	}
	before := 0
	if s := q.Get("before"); s != "" {
		n, e := httpapi.ParseID("before", s)
		if e != nil || n > 1<<31-1 {
			httpapi.WriteError(w, 0, httpapi.Invalid("before must be a message id (a whole number from 1 to 2147483647), got "+httpapi.Quote(s)))
			return
		}
		before = int(n)
	}
	msgs, next, err := a.Ingest.Messages(r.Context(), userID, peer, limit, before)
	if errors.Is(err, ingest.ErrNotFound) {
		if _, serr := a.Ingest.Status(r.Context(), userID); serr == nil {
			httpapi.WriteError(w, http.StatusNotFound, httpapi.Invalid("user "+strconv.FormatInt(userID, 10)+" has no stored dialog "+peer))
			return
		}
	}
	if err != nil {
		a.writeIngestError(w, userID, err)
		return
	}
	out := make([]messageJSON, len(msgs))
	for i, m := range msgs {
		out[i] = toMessageJSON(m)
	}
	httpapi.WriteData(w, http.StatusOK, map[string]any{"messages": out, "nextBefore": opt(next)})
}
