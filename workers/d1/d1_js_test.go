//go:build js && wasm

// Run under Node with the bridge's JavaScript half and a recording fake D1
// (workers/js/node_exec.mjs). The real D1 is tested end to end in e2e/.

package d1

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/communicator/communicator/workers/internal/bridgetest"
)

// bound returns what the fake D1 received since the last call, as JSON.
func bound(t *testing.T, ctx context.Context, db *sql.DB) []string {
	t.Helper()
	rows, err := db.QueryContext(ctx, "LOG")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var sqlText, params string
		if err := rows.Scan(&sqlText, &params); err != nil {
			t.Fatal(err)
		}
		out = append(out, sqlText+" "+params)
	}
	return out
}

func TestValuesRoundTrip(t *testing.T) {
	ctx := bridgetest.Context(t)
	db := Open("DB")
	big := int64(1<<53 - 1)
	var (
		i       int64
		neg     int64
		large   int64
		f       float64
		s       string
		b       []byte
		null    sql.NullString
		boolean bool
		empty   []byte
	)
	err := db.QueryRowContext(ctx, "ECHO ?,?,?,?,?,?,?,?,?", 42, -7, big, 1.5, "héllo\x00", []byte{0, 1, 255}, nil, true, []byte{}).
		Scan(&i, &neg, &large, &f, &s, &b, &null, &boolean, &empty)
	if err != nil {
		t.Fatal(err)
	}
	if i != 42 || neg != -7 || large != big || f != 1.5 || s != "héllo\x00" || !bytes.Equal(b, []byte{0, 1, 255}) || null.Valid || !boolean || len(empty) != 0 {
		t.Errorf("got %d %d %d %v %q %v %v %v %v", i, neg, large, f, s, b, null, boolean, empty)
	}
	got := bound(t, ctx, db)
	want := `ECHO ?,?,?,?,?,?,?,?,? [42,-7,9007199254740991,1.5,"héllo\u0000",{"blob":[0,1,255]},null,1,{"blob":[]}]`
	if len(got) != 1 || got[0] != want {
		t.Errorf("bound\n got %q\nwant %q", got, want)
	}
}

func TestRefusesWhatD1CannotCarry(t *testing.T) {
	ctx := bridgetest.Context(t)
	db := Open("DB")
	for _, tc := range []struct {
		arg  any
		want string
	}{
		{int64(1 << 53), "beyond ±2^53-1"},
		{int64(-(1 << 53)), "beyond ±2^53-1"},
		{uint64(1 << 60), "beyond ±2^53-1"},
		{struct{}{}, "unsupported type"},
	} {
		_, err := db.ExecContext(ctx, "INSERT ?", tc.arg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v", tc.arg, err)
		}
	}
	if _, err := db.ExecContext(ctx, "INSERT :x", sql.Named("x", 1)); err == nil || !strings.Contains(err.Error(), "named parameters") {
		t.Errorf("named: %v", err)
	}
	if got := bound(t, ctx, db); len(got) != 0 {
		t.Errorf("refused statements reached D1: %q", got)
	}
}

func TestExecResultAndErrors(t *testing.T) {
	ctx := bridgetest.Context(t)
	db := Open("DB")
	res, err := db.ExecContext(ctx, "UPDATE t SET x = ?", 1)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 2 {
		t.Errorf("rows affected = %d", n)
	}
	if id, _ := res.LastInsertId(); id != 7 {
		t.Errorf("last id = %d", id)
	}
	_, err = db.ExecContext(ctx, "FAIL")
	var e *Error
	if !errors.As(err, &e) || !strings.Contains(e.Message, "no such table: nope") {
		t.Errorf("exec error = %v", err)
	}
	if _, err := db.QueryContext(ctx, "FAIL"); !errors.As(err, &e) {
		t.Errorf("query error = %v", err)
	}
	rows, err := db.QueryContext(ctx, "EMPTY")
	if err != nil {
		t.Fatal(err)
	}
	if cols, _ := rows.Columns(); len(cols) != 2 || rows.Next() {
		t.Errorf("empty result: %v", cols)
	}
	rows.Close()
	if err := db.PingContext(ctx); err != nil {
		t.Errorf("ping: %v", err)
	}
	if _, err := db.ExecContext(context.Background(), "UPDATE t"); err == nil {
		t.Error("a statement without a request context ran")
	}
	bound(t, ctx, db)
}

func TestTransactionIsAWriteOnlyBatch(t *testing.T) {
	ctx := bridgetest.Context(t)
	db := Open("DB")
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tx.ExecContext(ctx, "INSERT a VALUES (?)", 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.RowsAffected(); err == nil {
		t.Error("RowsAffected known before Commit")
	}
	if _, err := tx.ExecContext(ctx, "INSERT b VALUES (?, ?)", "x", []byte{9}); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.QueryContext(ctx, "SELECT 1"); err == nil || !strings.Contains(err.Error(), "write-only batch") {
		t.Errorf("query in tx: %v", err)
	}
	if got := bound(t, ctx, db); len(got) != 0 {
		t.Errorf("statements ran before Commit: %q", got)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	got := bound(t, ctx, db)
	if len(got) != 2 || got[0] != `BATCH INSERT a VALUES (?) [1]` || got[1] != `BATCH INSERT b VALUES (?, ?) ["x",{"blob":[9]}]` {
		t.Errorf("batch = %q", got)
	}

	// A failing batch is reported by Commit; a rolled-back one never runs.
	tx, _ = db.BeginTx(ctx, nil)
	tx.ExecContext(ctx, "INSERT a VALUES (1)")
	tx.ExecContext(ctx, "FAIL")
	if err := tx.Commit(); err == nil || !strings.Contains(err.Error(), "batch failed") {
		t.Errorf("failing batch: %v", err)
	}
	tx, _ = db.BeginTx(ctx, nil)
	tx.ExecContext(ctx, "INSERT a VALUES (2)")
	tx.Rollback()
	// A refused parameter poisons the batch.
	tx, _ = db.BeginTx(ctx, nil)
	tx.ExecContext(ctx, "INSERT a VALUES (3)")
	tx.ExecContext(ctx, "INSERT a VALUES (?)", int64(1<<60))
	if err := tx.Commit(); err == nil || !strings.Contains(err.Error(), "not committed") {
		t.Errorf("poisoned batch: %v", err)
	}
	if got := bound(t, ctx, db); len(got) != 0 {
		t.Errorf("rolled back or refused batches ran: %q", got)
	}
	if _, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}); err == nil {
		t.Error("read-only transaction accepted")
	}
}

func TestBatchReturnsRowsAndChanges(t *testing.T) {
	ctx := bridgetest.Context(t)
	db := Open("DB")
	res, err := Batch(ctx, db, []Statement{
		{Query: "UPDATE t SET x = ?", Args: []any{1}},
		{Query: "ECHO ?, ?, ?, ?", Args: []any{int64(1 << 40), "text", []byte{7, 0}, nil}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].RowsAffected != 1 || res[0].LastInsertID != 100 || len(res[0].Rows) != 0 {
		t.Fatalf("results = %+v", res)
	}
	r := res[1]
	if len(r.Rows) != 1 || len(r.Columns) != 4 || r.Columns[0] != "c0" {
		t.Fatalf("query result = %+v", r)
	}
	row := r.Rows[0]
	if row[0] != int64(1<<40) || row[1] != "text" || string(row[2].([]byte)) != "\x07\x00" || row[3] != nil {
		t.Errorf("row = %#v", row)
	}
	if _, err := Batch(ctx, db, []Statement{{Query: "ECHO ?", Args: []any{int64(1 << 60)}}}); err == nil || !strings.Contains(err.Error(), "statement 0") {
		t.Errorf("out-of-range argument: %v", err)
	}
	bound(t, ctx, db)
}
