//go:build !js

package d1_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/communicator/communicator/workers/d1"
	_ "modernc.org/sqlite"
)

// On any other driver, Batch is a transaction that queries SELECTs and
// executes the rest, in order, all or nothing.
func TestBatchOnSQLite(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	res, err := d1.Batch(ctx, db, []d1.Statement{
		{Query: "INSERT INTO t (v) VALUES (?)", Args: []any{"a"}},
		{Query: "INSERT INTO t (v) VALUES (?)", Args: []any{"b"}},
		{Query: "SELECT id, v FROM t ORDER BY id"},
		{Query: "UPDATE t SET v = 'c' WHERE id = 1 RETURNING v"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res[1].LastInsertID != 2 || len(res[2].Rows) != 2 || res[2].Rows[1][1] != "b" || res[3].Rows[0][0] != "c" {
		t.Errorf("results = %+v", res)
	}
	// A failing statement undoes the earlier ones.
	if _, err := d1.Batch(ctx, db, []d1.Statement{
		{Query: "INSERT INTO t (v) VALUES ('d')"},
		{Query: "INSERT INTO nope VALUES (1)"},
	}); err == nil {
		t.Fatal("a failing batch succeeded")
	}
	var n int
	db.QueryRow("SELECT count(*) FROM t").Scan(&n)
	if n != 2 {
		t.Errorf("rows after a failed batch: %d", n)
	}
}
