//go:build !js

package main

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"testing"

	"github.com/communicator/communicator/authrpc"
	"github.com/communicator/communicator/internal/sqlitetest"
	"github.com/communicator/communicator/telegramauth"
	"github.com/communicator/communicator/vault"
	"github.com/communicator/communicator/workers/workerstest"
)

// Every RPC method has the action its caller is checked against.
func TestEveryMethodHasAnAction(t *testing.T) {
	for i := 0; authrpc.ServiceMethod(i) != ""; i++ {
		if _, ok := methodActions[authrpc.ServiceMethod(i)]; !ok {
			t.Errorf("method %s has no action in methodActions", authrpc.ServiceMethod(i))
		}
	}
}

type rpcFixture struct {
	t   *testing.T
	db  *sql.DB
	h   rpcHandler
	log bytes.Buffer
}

func newRPCFixture(t *testing.T) *rpcFixture {
	f := &rpcFixture{t: t, db: sqlitetest.Open(t, "migrations")}
	sealer, err := vault.NewSealer([]byte(goodSecret), nil)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(&f.log, nil))
	v, err := vault.New(f.db, sealer, vault.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	f.h = rpcHandler{next: authrpc.NewServiceHandler(v), vault: v, log: logger}
	return f
}

// call calls method i with args on named entrypoint n (0: default) with props.
func (f *rpcFixture) call(entrypoint int, props string, method int, args string) ([]byte, error) {
	var p []byte
	if props != "" {
		p = []byte(props)
	}
	return f.h.ServeRPC(workerstest.RPCContext(context.Background(), entrypoint, p), method, []byte(args), nil)
}

// rows are the access-log rows, oldest first: "caller action code".
func (f *rpcFixture) rows() []string {
	f.t.Helper()
	r, err := f.db.Query("SELECT caller, action, coalesce(error_code, 'ok') FROM access_log ORDER BY id")
	if err != nil {
		f.t.Fatal(err)
	}
	defer r.Close()
	var out []string
	for r.Next() {
		var c, a, e string
		if err := r.Scan(&c, &a, &e); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, c+" "+a+" "+e)
	}
	return out
}

func TestCallerByEntrypoint(t *testing.T) {
	const listSessions = 1
	tests := []struct {
		name       string
		entrypoint int
		props      string
		wantCode   telegramauth.Code
		wantRow    string
	}{
		{"named entrypoint without props", 1, "", "", "ingestor-service list_sessions ok"},
		{"named entrypoint with null props", 1, "null", "", "ingestor-service list_sessions ok"},
		{"named entrypoint with agreeing props", 1, `{"serviceId":"ingestor-service"}`, "", "ingestor-service list_sessions ok"},
		{"named entrypoint with other props", 1, `{"serviceId":"intruder"}`, telegramauth.CodeForbidden, "ingestor-service list_sessions FORBIDDEN"},
		{"default entrypoint with props", 0, `{"serviceId":"ingestor-service"}`, "", "ingestor-service list_sessions ok"},
		{"default entrypoint without props", 0, "", telegramauth.CodeForbidden, " list_sessions FORBIDDEN"},
		{"default entrypoint, a service the policy does not know", 0, `{"serviceId":"intruder"}`, telegramauth.CodeForbidden, "intruder list_sessions FORBIDDEN"},
		{"an entrypoint this program does not know", 9, `{"serviceId":"ingestor-service"}`, telegramauth.CodeForbidden, " list_sessions FORBIDDEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newRPCFixture(t)
			out, err := f.call(tt.entrypoint, tt.props, listSessions, `[42]`)
			if telegramauth.CodeOf(err) != tt.wantCode {
				t.Fatalf("code %v (%v), want %q", telegramauth.CodeOf(err), err, tt.wantCode)
			}
			if err == nil && string(out) != "[]" {
				t.Errorf("result %s", out)
			}
			if rows := f.rows(); len(rows) != 1 || rows[0] != tt.wantRow {
				t.Errorf("access log %q, want [%q]", rows, tt.wantRow)
			}
		})
	}
}

// A caller without the permission is refused before its arguments are read:
// FORBIDDEN and a row, whatever it sent.
func TestCallerBeforeArguments(t *testing.T) {
	f := newRPCFixture(t)
	for _, c := range []struct {
		method int
		args   string
	}{{0, `["not a number"]`}, {0, `[]`}, {2, `[7]`}, {3, `[1, null]`}, {4, `[{"beforeId":"x"}]`}, {4, `garbage`}} {
		_, err := f.call(0, `{"serviceId":"intruder"}`, c.method, c.args)
		if telegramauth.CodeOf(err) != telegramauth.CodeForbidden {
			t.Errorf("%d %s: %v, want FORBIDDEN", c.method, c.args, err)
		}
	}
	if rows := f.rows(); len(rows) != 6 || rows[0] != "intruder get_session FORBIDDEN" || rows[5] != "intruder read_access_log FORBIDDEN" {
		t.Errorf("access log %q", rows)
	}
	// An allowed caller's bad arguments are INVALID_ARGUMENT.
	if _, err := f.call(1, "", 0, `["x"]`); telegramauth.CodeOf(err) != telegramauth.CodeInvalidArgument {
		t.Errorf("bad arguments of an allowed caller: %v", err)
	}
	// The log line names the entrypoint and, quoted, the conflicting claim.
	if _, err := f.call(1, `{"serviceId":"other\n"}`, 1, `[1]`); telegramauth.CodeOf(err) != telegramauth.CodeForbidden {
		t.Fatal(err)
	}
	if !bytes.Contains(f.log.Bytes(), []byte(`"entrypoint":"IngestorEntrypoint"`)) || !bytes.Contains(f.log.Bytes(), []byte(`"props_service_id":"\"other?\""`)) {
		t.Errorf("log:\n%s", f.log.String())
	}
}

// A refusal's row names the user or session the arguments name, when they
// are well-formed; the answer is FORBIDDEN either way.
func TestRefusalNamesItsTarget(t *testing.T) {
	f := newRPCFixture(t)
	sid := "ses_" + strings.Repeat("b", 26)
	const intruder = `{"serviceId":"intruder"}`
	for _, c := range []struct {
		entrypoint int
		method     int
		args, want string
	}{
		{0, 0, `[42]`, "42 "},
		{0, 1, `[43, "extra"]`, "43 "},
		{0, 2, `["` + sid + `"]`, "0 " + sid},
		{0, 3, `[44, "x"]`, "44 "},
		{0, 0, `["42"]`, "0 "},
		{0, 0, `[1.5]`, "0 "},
		{0, 0, `[-1]`, "0 "},
		{0, 2, `["ses_short"]`, "0 "},
		{0, 4, `[{"userId":45}]`, "0 "},
		{0, 0, `garbage`, "0 "},
		{1, 0, `[46]`, "46 "}, // props that disagree with the entrypoint
	} {
		if _, err := f.call(c.entrypoint, intruder, c.method, c.args); telegramauth.CodeOf(err) != telegramauth.CodeForbidden {
			t.Errorf("%d %s: %v, want FORBIDDEN", c.method, c.args, err)
		}
		var got string
		if err := f.db.QueryRow("SELECT coalesce(user_id, 0) || ' ' || coalesce(session_id, '') FROM access_log ORDER BY id DESC LIMIT 1").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%d %s: the row names %q, want %q", c.method, c.args, got, c.want)
		}
	}
}
