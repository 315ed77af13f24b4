package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/communicator/communicator/faketelegram"
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
	if len(r.DCs) != 2 || r.DCs[3] != r.Addr || !strings.HasPrefix(r.DCs[4], "127.0.0.1:") || r.DCs[4] == r.Addr {
		t.Fatalf("dcs: %s", line)
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
	// Messages change, and /dialogs and /digest follow.
	before := call("GET", "/digest?userId=1001", "", 200)
	posted := call("POST", "/messages", `{"userId":1001,"peer":{"user":1002},"from":1002,"text":"hello 👋","entities":[{"type":"italic","offset":0,"length":5}]}`, 200)["message"].(map[string]any)
	id := int(posted["id"].(float64))
	if posted["text"] != "hello 👋" || posted["from"] != float64(1002) || posted["out"] != nil {
		t.Errorf("posted: %v", posted)
	}
	edited := call("POST", "/messages/edit", fmt.Sprintf(`{"userId":1001,"peer":{"user":1002},"id":%d,"text":"hello again","editDate":%d}`, id, int(posted["date"].(float64))+60), 200)["message"].(map[string]any)
	if edited["text"] != "hello again" || edited["editDate"] != posted["date"].(float64)+60 {
		t.Errorf("edited: %v", edited)
	}
	var dialogs struct {
		Dialogs []faketelegram.Dialog `json:"dialogs"`
	}
	raw := call("GET", "/dialogs?userId=1001", "", 200)
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, &dialogs); err != nil {
		t.Fatal(err)
	}
	var top *faketelegram.Dialog
	for i, d := range dialogs.Dialogs {
		if d.Peer == (faketelegram.Peer{User: 1002}) {
			top = &dialogs.Dialogs[i]
		}
	}
	if top == nil || top.TopMessage != id || top.Messages[len(top.Messages)-1].Text != "hello again" || len(top.Messages) != 1501 {
		t.Errorf("dialog with 1002: %+v", top)
	}
	during := call("GET", "/digest?userId=1001", "", 200)
	if during["messages"] != before["messages"].(float64)+1 || during["checksum"] == before["checksum"] {
		t.Errorf("digest %v → %v", before, during)
	}
	call("POST", "/messages/delete", fmt.Sprintf(`{"userId":1001,"peer":{"user":1002},"ids":[%d]}`, id), 200)
	if after := call("GET", "/digest?userId=1001", "", 200); after["messages"] != before["messages"] || after["checksum"] != before["checksum"] {
		t.Errorf("digest after the deletion %v, before the post %v", after, before)
	}
	call("POST", "/messages/delete", fmt.Sprintf(`{"userId":1001,"peer":{"user":1002},"ids":[%d]}`, id), 400)

	call("POST", "/revoke", `{"session":"`+r.Sessions["1002"]+`"}`, 200)
	out := call("POST", "/mint", `{"userId":1003}`, 200)
	if _, _, err := sessionstring.Parse(out["session"].(string)); err != nil || out["dc"] != float64(3) {
		t.Errorf("minted: %v %v", out, err)
	}
	out = call("POST", "/mint", `{"userId":1005,"dc":4}`, 200)
	if s, _, err := sessionstring.Parse(out["session"].(string)); err != nil || s.DC != 4 || s.HostPort() != r.DCs[4] {
		t.Errorf("minted on DC 4: %v %v", s, err)
	}
	if out := call("GET", "/codes?phone=15550101005", "", 404); out["field"] != "phone" {
		t.Errorf("no code sent: %v", out)
	}
	if out := call("POST", "/qr/scan", `{"token":"AAAA","userId":1003}`, 404); out["field"] != "token" {
		t.Errorf("unknown token: %v", out)
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
