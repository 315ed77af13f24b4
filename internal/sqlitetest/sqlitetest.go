//go:build !js

// Package sqlitetest opens SQLite databases (modernc.org/sqlite, pure Go) with a
// service's D1 migrations applied, so that native tests run the same SQL the
// workers run on D1. Tests import it, and the benchmarks (a native run of
// ingestion to compare with the worker's).
package sqlitetest

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // the SQLite that native tests use in place of D1
)

// Open returns a fresh database in the test's temporary directory with every
// *.sql file of migrationsDir applied in name order, as `wrangler d1
// migrations apply` does.
func Open(t testing.TB, migrationsDir string) *sql.DB {
	t.Helper()
	db, err := OpenFile(filepath.Join(t.TempDir(), "test.db"), migrationsDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// OpenFile is Open for a database file at path (new or not) outside a test.
func OpenFile(path, migrationsDir string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(migrationsDir, "*.sql"))
	if err == nil && len(files) == 0 {
		err = errors.New("no migrations in " + migrationsDir)
	}
	sort.Strings(files)
	for _, f := range files {
		if err != nil {
			break
		}
		var b []byte
		if b, err = os.ReadFile(f); err == nil {
			if _, e := db.Exec(string(b)); e != nil {
				err = fmt.Errorf("migration %s: %v", filepath.Base(f), e)
			}
		}
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
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
