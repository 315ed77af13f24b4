//go:build !js

// Package sqlitetest opens SQLite databases (modernc.org/sqlite, pure Go) with a
// service's D1 migrations applied, so that native tests run the same SQL the
// workers run on D1. It is only imported by tests.
package sqlitetest

import (
	"database/sql"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // the SQLite that native tests use in place of D1
)

// Open returns a fresh in-memory database with every *.sql file of
// migrationsDir applied in name order, as `wrangler d1 migrations apply` does.
func Open(t testing.TB, migrationsDir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "test.db")+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	files, err := filepath.Glob(filepath.Join(migrationsDir, "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no migrations in %s", migrationsDir)
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(b)); err != nil {
			t.Fatalf("migration %s: %v", filepath.Base(f), err)
		}
	}
	return db
}

// Exec runs statements separated by ";\n" (for tests that tamper with rows).
func Exec(t testing.TB, db *sql.DB, stmts string) {
	t.Helper()
	for _, s := range strings.Split(stmts, ";\n") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}
