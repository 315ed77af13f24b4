package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/communicator/communicator/mtproto/sessionstring"
)

func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-mint", "1001,1002", "-control", "127.0.0.1:0", "-dc", "3"}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err, <-done)
	}
	go io.Copy(io.Discard, pr)
	var r ready
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		t.Fatal(err)
	}
	if r.DC != 3 || !strings.HasPrefix(r.Addr, "127.0.0.1:") || !strings.HasPrefix(r.PublicKey, "-----BEGIN RSA PUBLIC KEY-----") || r.Control == "" || len(r.Sessions) != 2 {
		t.Fatalf("ready line: %s", line)
	}
	s, _, err := sessionstring.Parse(r.Sessions["1001"])
	if err != nil || s.DC != 3 || s.HostPort() != r.Addr {
		t.Fatalf("session: %v %v", s, err)
	}

	base := "http://" + r.Control
	call := func(method, path, body string, wantStatus int) map[string]any {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		if res.StatusCode != wantStatus {
			t.Fatalf("%s %s %s: %d %v, want %d", method, path, body, res.StatusCode, out, wantStatus)
		}
		return out
	}
	if out := call("POST", "/faults", `{"kind":"explode","method":"x"}`, 400); out["field"] != "kind" {
		t.Errorf("bad kind: %v", out)
	}
	if out := call("POST", "/faults", `{"kind":"floodWait","method":"users.getUsers"}`, 400); out["field"] != "seconds" {
		t.Errorf("no seconds: %v", out)
	}
	if out := call("POST", "/faults", `{"kind":"slow","method":"*","delayMs":"x"}`, 400); out["field"] != "delayMs" {
		t.Errorf("bad type: %v", out)
	}
	call("POST", "/faults", `{"kind":"floodWait","method":"users.getUsers","seconds":3,"times":1}`, 200)
	call("POST", "/faults", `{"kind":"drop","method":"messages.getHistory","times":2}`, 200)
	call("POST", "/faults", `{"kind":"floodWait","method":"messages.getDialogs","seconds":2,"after":3,"times":1}`, 200)
	if out := call("POST", "/faults", `{"kind":"drop","method":"messages.getDialogs","after":-1}`, 400); out["field"] != "after" {
		t.Errorf("negative after: %v", out)
	}
	call("DELETE", "/faults", "", 200)
	call("DELETE", "/calls", "", 200)
	if out := call("GET", "/calls?method=*", "", 200); out["calls"] != float64(0) {
		t.Errorf("calls after DELETE /calls: %v", out)
	}
	if out := call("GET", "/calls?method=users.getUsers", "", 200); out["calls"] != float64(0) {
		t.Errorf("calls: %v", out)
	}
	if out := call("POST", "/mint", `{"userId":999}`, 400); out["field"] != "userId" {
		t.Errorf("unknown user: %v", out)
	}
	if out := call("POST", "/revoke", `{"session":"not a session"}`, 400); out["field"] != "session" || strings.Contains(out["error"].(string), "not a session") {
		t.Errorf("bad session: %v", out)
	}
	call("POST", "/revoke", `{"session":"`+r.Sessions["1002"]+`"}`, 200)
	out := call("POST", "/mint", `{"userId":1003}`, 200)
	if _, _, err := sessionstring.Parse(out["session"].(string)); err != nil {
		t.Errorf("minted: %v", err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

func TestRunBadFlags(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, args := range [][]string{
		{"-addr", "0.0.0.0:0"},
		{"-mint", "abc"},
		{"-mint", "999"},
		{"-fixture", "/nonexistent.json"},
		{"-control", "0.0.0.0:0"},
		{"extra"},
	} {
		if err := run(ctx, args, io.Discard, io.Discard); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
