package ingest

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Limits of the listings.
const (
	DefaultListLimit = 50
	MaxListLimit     = 200
)

// ErrBadCursor is a dialogs cursor this package did not write.
var ErrBadCursor = errors.New("ingest: the cursor is not one this API gave out")

// StoredDialog is a dialog as stored.
type StoredDialog struct {
	Peer            string
	Title           string
	UnreadCount     int
	Pinned          bool
	LastMessageID   int
	LastMessageDate time.Time
	Stored          int  // messages stored
	Complete        bool // its history is read as far as the limit allows
}

// Dialogs lists the account's stored dialogs, newest activity first, at
// most limit after cursor ("" for the first page), and the cursor of the
// next page ("" after the last). ErrNotFound for an account not registered.
func (s *Service) Dialogs(ctx context.Context, userID int64, limit int, cursor string) ([]StoredDialog, string, error) {
	a, err := s.account(ctx, userID)
	if err != nil {
		return nil, "", err
	}
	shard, err := s.shard(a.Shard)
	if err != nil {
		return nil, "", err
	}
	limit = clampLimit(limit)
	q := "SELECT peer, title, unread_count, pinned, top_message_id, top_message_date, stored, NOT " + needsWork +
		" FROM dialogs WHERE user_id = ?"
	args := []any{s.cfg.HistoryLimit, s.cfg.HistoryLimit, userID}
	if cursor != "" {
		date, peer, ok := parseDialogCursor(cursor)
		if !ok {
			return nil, "", ErrBadCursor
		}
		q += " AND (top_message_date < ? OR (top_message_date = ? AND peer < ?))"
		args = append(args, date, date, peer)
	}
	q += " ORDER BY top_message_date DESC, peer DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := shard.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []StoredDialog
	var dates []int64
	for rows.Next() {
		var d StoredDialog
		var date int64
		if err := rows.Scan(&d.Peer, &d.Title, &d.UnreadCount, &d.Pinned, &d.LastMessageID, &date, &d.Stored, &d.Complete); err != nil {
			return nil, "", err
		}
		d.LastMessageDate = ms(date)
		out = append(out, d)
		dates = append(dates, date)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = dialogCursor(dates[limit-1], out[limit-1].Peer)
	}
	return out, next, nil
}

func clampLimit(n int) int {
	if n <= 0 {
		return DefaultListLimit
	}
	return min(n, MaxListLimit)
}

// A dialogs cursor is the last dialog's date and peer, base64url: opaque to
// callers, checked when it comes back.
func dialogCursor(date int64, peer string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(date, 10) + "|" + peer))
}

func parseDialogCursor(c string) (int64, string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", false
	}
	ds, peer, ok := strings.Cut(string(b), "|")
	date, err := strconv.ParseInt(ds, 10, 64)
	if !ok || err != nil || date < 0 || !ValidPeer(peer) {
		return 0, "", false
	}
	return date, peer, true
}

// ValidPeer reports whether p is a peer as this package writes them:
// "user:ID", "chat:ID" or "channel:ID" with a positive decimal ID.
func ValidPeer(p string) bool {
	kind, id, ok := strings.Cut(p, ":")
	if !ok || (kind != "user" && kind != "chat" && kind != "channel") || id == "" || len(id) > 20 || id[0] == '0' {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

// Messages lists the stored messages of the account's dialog peer, newest
// first, at most limit with ids below before (0: from the newest), and the
// before of the next page (0 after the last). ErrNotFound for an account
// not registered or a dialog not stored.
func (s *Service) Messages(ctx context.Context, userID int64, peer string, limit, before int) ([]Message, int, error) {
	a, err := s.account(ctx, userID)
	if err != nil {
		return nil, 0, err
	}
	shard, err := s.shard(a.Shard)
	if err != nil {
		return nil, 0, err
	}
	var one int
	if err := shard.QueryRowContext(ctx, "SELECT 1 FROM dialogs WHERE user_id = ? AND peer = ?", userID, peer).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return nil, 0, ErrNotFound
	} else if err != nil {
		return nil, 0, err
	}
	limit = clampLimit(limit)
	q := "SELECT id, coalesce(sender, ''), date, coalesce(edit_date, 0), text, entities, coalesce(reply_to_id, 0), forward, media, " +
		"coalesce(action, ''), coalesce(views, 0), coalesce(grouped_id, '0') FROM messages WHERE user_id = ? AND peer = ?"
	args := []any{userID, peer}
	if before > 0 {
		q += " AND id < ?"
		args = append(args, before)
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := shard.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		m := Message{Peer: peer}
		var date, edit int64
		var entities, forward, media sql.NullString
		var grouped string
		if err := rows.Scan(&m.ID, &m.Sender, &date, &edit, &m.Text, &entities, &m.ReplyToID, &forward, &media, &m.Action, &m.Views, &grouped); err != nil {
			return nil, 0, err
		}
		m.Date, m.EditDate = ms(date), ms(edit)
		m.Entities, m.Forward, m.Media = raw(entities), raw(forward), raw(media)
		m.GroupedID, _ = strconv.ParseInt(grouped, 10, 64)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	next := 0
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

func raw(s sql.NullString) json.RawMessage {
	if !s.Valid {
		return nil
	}
	return json.RawMessage(s.String)
}
