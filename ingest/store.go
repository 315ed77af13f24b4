package ingest

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"time"

	"github.com/communicator/communicator/workers/d1"
)

// The SQL of a shard. Rows of a page travel as one JSON parameter read with
// json_each: D1 allows 100 bound parameters a statement and counts each
// statement of a batch against an invocation's 1,000 queries, so a page is a
// few statements, not one per row. chunkBytes bounds one parameter (D1
// allows 2 MB a string).
const chunkBytes = 512 << 10

// dialogRow is a dialogs row: the dialog and its history cursors.
type dialogRow struct {
	Dialog
	newestID, oldestID, catchupTop, catchupOffset int
	historyDone                                   bool
	stored                                        int
}

// needsWork is the SQL condition of a dialog whose history is not complete:
// a catch-up pass under way or due (new messages above newest_id), or older
// history left below oldest_id under the limit. Its two parameters are the
// history limit, twice.
const needsWork = "(catchup_top > 0 OR top_message_id > newest_id OR " +
	"(history_done = 0 AND newest_id > 0 AND oldest_id > 1 AND (? = 0 OR stored < ?)))"

const dialogColumns = "peer, title, unread_count, pinned, top_message_id, top_message_date, access_hash, " +
	"newest_id, oldest_id, catchup_top, catchup_offset, history_done, stored"

func scanDialog(sc interface{ Scan(...any) error }) (*dialogRow, error) {
	var d dialogRow
	var date int64
	var hash string
	if err := sc.Scan(&d.Peer, &d.Title, &d.UnreadCount, &d.Pinned, &d.TopMessageID, &date, &hash,
		&d.newestID, &d.oldestID, &d.catchupTop, &d.catchupOffset, &d.historyDone, &d.stored); err != nil {
		return nil, err
	}
	d.TopMessageDate = ms(date)
	d.AccessHash, _ = strconv.ParseInt(hash, 10, 64)
	return &d, nil
}

// wireDialog is a dialog in the JSON parameter of upsertDialogs.
type wireDialog struct {
	Peer   string `json:"p"`
	Title  string `json:"t"`
	Unread int    `json:"u"`
	Pinned int    `json:"n"`
	Top    int    `json:"i"`
	Date   int64  `json:"d"`
	Hash   string `json:"h"`
}

// wireMessage is a message in the JSON parameter of the message upserts.
type wireMessage struct {
	Peer      string  `json:"p"`
	ID        int     `json:"i"`
	Sender    *string `json:"s"`
	Date      int64   `json:"d"`
	EditDate  *int64  `json:"e"`
	Text      string  `json:"t"`
	Entities  *string `json:"n"`
	ReplyToID *int    `json:"r"`
	Forward   *string `json:"f"`
	Media     *string `json:"m"`
	Action    *string `json:"a"`
	Views     *int    `json:"v"`
	GroupedID *string `json:"g"`
}

func nonZero[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

func rawString(r json.RawMessage) *string {
	if len(r) == 0 || string(r) == "null" {
		return nil
	}
	s := string(r)
	return &s
}

func toWire(m Message) wireMessage {
	w := wireMessage{Peer: m.Peer, ID: m.ID, Sender: nonZero(m.Sender), Date: m.Date.UnixMilli(), Text: m.Text,
		Entities: rawString(m.Entities), ReplyToID: nonZero(m.ReplyToID), Forward: rawString(m.Forward),
		Media: rawString(m.Media), Action: nonZero(m.Action), Views: nonZero(m.Views)}
	if !m.EditDate.IsZero() {
		e := m.EditDate.UnixMilli()
		w.EditDate = &e
	}
	if m.GroupedID != 0 {
		g := strconv.FormatInt(m.GroupedID, 10)
		w.GroupedID = &g
	}
	return w
}

// chunks encodes items as JSON arrays of at most chunkBytes each.
func chunks[T any](items []T) ([]string, error) {
	var out []string
	buf := []byte{'['}
	for _, it := range items {
		b, err := json.Marshal(it)
		if err != nil {
			return nil, err
		}
		if len(buf) > 1 && len(buf)+len(b) > chunkBytes {
			out = append(out, string(append(buf, ']')))
			buf = []byte{'['}
		}
		if len(buf) > 1 {
			buf = append(buf, ',')
		}
		buf = append(buf, b...)
	}
	if len(buf) > 1 {
		out = append(out, string(append(buf, ']')))
	}
	return out, nil
}

const messageFields = "sender = excluded.sender, date = excluded.date, edit_date = excluded.edit_date, text = excluded.text, " +
	"entities = excluded.entities, reply_to_id = excluded.reply_to_id, forward = excluded.forward, media = excluded.media, " +
	"action = excluded.action, views = excluded.views, grouped_id = excluded.grouped_id"

const messageSelect = "SELECT ?, json_extract(j.value, '$.p'), json_extract(j.value, '$.i'), json_extract(j.value, '$.s'), " +
	"json_extract(j.value, '$.d'), json_extract(j.value, '$.e'), json_extract(j.value, '$.t'), json_extract(j.value, '$.n'), " +
	"json_extract(j.value, '$.r'), json_extract(j.value, '$.f'), json_extract(j.value, '$.m'), json_extract(j.value, '$.a'), " +
	"json_extract(j.value, '$.v'), json_extract(j.value, '$.g') FROM json_each(?) AS j"

const insertMessages = "INSERT INTO messages (user_id, peer, id, sender, date, edit_date, text, entities, reply_to_id, forward, media, action, views, grouped_id) "

// messageUpserts are the statements that upsert msgs. With onlyStored, a
// message is written only if it is stored already (a refresh: Telegram's
// copy of a dialog's top message, which may carry an edit).
func messageUpserts(userID int64, msgs []Message, onlyStored bool) ([]d1.Statement, error) {
	wire := make([]wireMessage, len(msgs))
	for i, m := range msgs {
		wire[i] = toWire(m)
	}
	params, err := chunks(wire)
	if err != nil {
		return nil, err
	}
	where := " WHERE true"
	if onlyStored {
		where = " WHERE EXISTS (SELECT 1 FROM messages AS m WHERE m.user_id = ? AND m.peer = json_extract(j.value, '$.p') AND m.id = json_extract(j.value, '$.i'))"
	}
	var stmts []d1.Statement
	for _, p := range params {
		args := []any{userID, p}
		if onlyStored {
			args = append(args, userID)
		}
		stmts = append(stmts, d1.Statement{Query: insertMessages + messageSelect + where + " ON CONFLICT (user_id, peer, id) DO UPDATE SET " + messageFields, Args: args})
	}
	return stmts, nil
}

// upsertDialogs stores a page of the listing, keeping each dialog's cursors,
// and refreshes the stored copies of their top messages (tops).
func upsertDialogs(ctx context.Context, shard *sql.DB, userID int64, page []Dialog, tops []Message, now time.Time) error {
	wire := make([]wireDialog, len(page))
	for i, d := range page {
		pinned := 0
		if d.Pinned {
			pinned = 1
		}
		wire[i] = wireDialog{Peer: d.Peer, Title: d.Title, Unread: d.UnreadCount, Pinned: pinned, Top: d.TopMessageID,
			Date: millis(d.TopMessageDate), Hash: strconv.FormatInt(d.AccessHash, 10)}
	}
	params, err := chunks(wire)
	if err != nil {
		return err
	}
	var stmts []d1.Statement
	for _, p := range params {
		stmts = append(stmts, d1.Statement{
			Query: "INSERT INTO dialogs (user_id, peer, title, unread_count, pinned, top_message_id, top_message_date, access_hash, synced_at) " +
				"SELECT ?, json_extract(j.value, '$.p'), json_extract(j.value, '$.t'), json_extract(j.value, '$.u'), json_extract(j.value, '$.n'), " +
				"json_extract(j.value, '$.i'), json_extract(j.value, '$.d'), json_extract(j.value, '$.h'), ? FROM json_each(?) AS j WHERE true " +
				"ON CONFLICT (user_id, peer) DO UPDATE SET title = excluded.title, unread_count = excluded.unread_count, pinned = excluded.pinned, " +
				"top_message_id = excluded.top_message_id, top_message_date = excluded.top_message_date, access_hash = excluded.access_hash, synced_at = excluded.synced_at",
			Args: []any{userID, now.UnixMilli(), p},
		})
	}
	if len(tops) > 0 {
		refresh, err := messageUpserts(userID, tops, true)
		if err != nil {
			return err
		}
		stmts = append(stmts, refresh...)
	}
	if len(stmts) == 0 {
		return nil
	}
	_, err = d1.Batch(ctx, shard, stmts)
	return err
}

// dialogsToWork returns up to n dialogs of userID whose history is not
// complete, newest activity first.
func dialogsToWork(ctx context.Context, shard *sql.DB, userID int64, limit, n int) ([]*dialogRow, error) {
	rows, err := shard.QueryContext(ctx, "SELECT "+dialogColumns+" FROM dialogs WHERE user_id = ? AND "+needsWork+
		" ORDER BY top_message_date DESC, peer LIMIT ?", userID, limit, limit, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*dialogRow
	for rows.Next() {
		d, err := scanDialog(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// commitPage stores a page of d's history and d's cursors past it in one
// batch, and returns how many messages of d are stored now.
func commitPage(ctx context.Context, shard *sql.DB, userID int64, d *dialogRow, page []Message, now time.Time) (int, error) {
	stmts, err := messageUpserts(userID, page, false)
	if err != nil {
		return 0, err
	}
	done := 0
	if d.historyDone {
		done = 1
	}
	stmts = append(stmts,
		d1.Statement{Query: "UPDATE dialogs SET newest_id = ?, oldest_id = ?, catchup_top = ?, catchup_offset = ?, history_done = ?, " +
			"stored = (SELECT count(*) FROM messages WHERE user_id = ? AND peer = ?), synced_at = ? WHERE user_id = ? AND peer = ?",
			Args: []any{d.newestID, d.oldestID, d.catchupTop, d.catchupOffset, done, userID, d.Peer, now.UnixMilli(), userID, d.Peer}},
		d1.Statement{Query: "SELECT stored AS stored FROM dialogs WHERE user_id = ? AND peer = ?", Args: []any{userID, d.Peer}},
	)
	res, err := d1.Batch(ctx, shard, stmts)
	if err != nil {
		return 0, err
	}
	last := res[len(res)-1]
	if len(last.Rows) != 1 || len(last.Rows[0]) != 1 {
		return 0, nil
	}
	n, _ := last.Rows[0][0].(int64)
	return int(n), nil
}

// setCursors stores d's cursors alone (a pass ended by the history limit).
func setCursors(ctx context.Context, shard *sql.DB, userID int64, d *dialogRow) error {
	done := 0
	if d.historyDone {
		done = 1
	}
	_, err := shard.ExecContext(ctx, "UPDATE dialogs SET newest_id = ?, oldest_id = ?, catchup_top = ?, catchup_offset = ?, history_done = ? WHERE user_id = ? AND peer = ?",
		d.newestID, d.oldestID, d.catchupTop, d.catchupOffset, done, userID, d.Peer)
	return err
}

// progress is how many of userID's dialogs have complete history, how many
// there are, and how many messages are stored.
func progress(ctx context.Context, shard *sql.DB, userID int64, limit int) (done, total, stored int, err error) {
	err = shard.QueryRowContext(ctx, "SELECT count(*) - coalesce(sum(CASE WHEN "+needsWork+" THEN 1 ELSE 0 END), 0), count(*), coalesce(sum(stored), 0) "+
		"FROM dialogs WHERE user_id = ?", limit, limit, userID).Scan(&done, &total, &stored)
	return done, total, stored, err
}
