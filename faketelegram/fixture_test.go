package faketelegram_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/communicator/communicator/faketelegram"
	"github.com/communicator/communicator/faketelegram/internal/genfixture"
)

// TestFixtureUpToDate fails when fixture.json.gz is not what the generator
// writes: run `go generate ./faketelegram`.
func TestFixtureUpToDate(t *testing.T) {
	want, err := genfixture.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(faketelegram.DefaultFixtureJSON(), want) {
		t.Fatal("fixture.json.gz is stale: run `go generate ./faketelegram`")
	}
}

func TestDefaultFixture(t *testing.T) {
	f := faketelegram.DefaultFixture()
	st := f.Stats()
	t.Logf("%+v", st)
	if st.Messages < 3000 || st.PrivateChats+st.Groups+st.Channels < 30 || st.ServiceMessages == 0 || st.Media == 0 || st.Edited == 0 {
		t.Errorf("fixture too small or missing kinds: %+v", st)
	}
	u, ok := f.User(1001)
	if !ok || u.Password != "" || u.Phone != "15550101001" || u.LoginCode != "01001" {
		t.Errorf("user 1001 = %+v", u)
	}
	if u, ok := f.User(1002); !ok || u.Password == "" {
		t.Errorf("user 1002 should have a 2FA password: %+v", u)
	}
	if u, ok := f.UserByPhone("+1 555 010-1002"); !ok || u.ID != 1002 {
		t.Errorf("UserByPhone = %+v, %v", u, ok)
	}
}

func TestLoadFixtureErrors(t *testing.T) {
	dir := t.TempDir()
	const users = `"users":[{"id":1,"accessHash":5,"firstName":"A","phone":"1555","loginCode":"11"},{"id":2,"accessHash":6,"firstName":"B"}]`
	for _, tc := range []struct {
		name, body, want string
	}{
		{"syntax", `{"users":[`, "unexpected EOF"},
		{"unknown-field", `{"users":[{"id":1,"firstName":"A","nickname":"x"}]}`, `unknown field "nickname"`},
		{"no-users", `{}`, "no users"},
		{"dup-user", `{"users":[{"id":1,"firstName":"A"},{"id":1,"firstName":"B"}]}`, "user 1 (entry 1): duplicate user id"},
		{"phone-no-code", `{"users":[{"id":1,"firstName":"A","phone":"1"}]}`, "user 1 (entry 0): loginCode"},
		{"unknown-sender", `{` + users + `,"privateChats":[{"users":[1,2],"messages":[{"id":1,"date":10,"from":1,"text":"hi"},{"id":7,"date":11,"from":3,"text":"x"}]}]}`, "private chat 1-2: message 7: from 3"},
		{"ids-order", `{` + users + `,"privateChats":[{"users":[1,2],"messages":[{"id":5,"date":10,"from":1,"text":"hi"},{"id":4,"date":11,"from":2,"text":"x"}]}]}`, "message 4: ids must be positive and increasing"},
		{"reply", `{` + users + `,"groups":[{"id":9,"title":"G","creator":1,"members":[2],"date":1,"messages":[{"id":3,"date":10,"from":1,"text":"hi","replyTo":99}]}]}`, "group 9: message 3: replyTo 99"},
		{"shared-ids", `{` + users + `,"privateChats":[{"users":[1,2],"messages":[{"id":3,"date":10,"from":1,"text":"hi"}]}],"groups":[{"id":9,"title":"G","creator":1,"date":1,"messages":[{"id":3,"date":10,"from":1,"text":"hi"}]}]}`, "group 9: message 3: id already used in private chat 1-2"},
		{"media", `{` + users + `,"channels":[{"id":7,"accessHash":1,"title":"C","creator":1,"date":1,"messages":[{"id":1,"date":10,"media":{"kind":"hologram"}}]}]}`, `channel 7: message 1: unknown media kind "hologram"`},
		{"service", `{` + users + `,"groups":[{"id":9,"title":"G","creator":1,"date":1,"messages":[{"id":1,"date":10,"from":1,"action":{"kind":"pinMessage","messageId":5}}]}]}`, "group 9: message 1: action pinMessage: messageId 5"},
		{"entity-range", `{` + users + `,"privateChats":[{"users":[1,2],"messages":[{"id":1,"date":10,"from":1,"text":"h👋","entities":[{"type":"bold","offset":1,"length":3}]}]}]}`, "message 1: entity 0: offset 1, length 3 is not within the text (3 UTF-16 code units)"},
		{"entity-type", `{` + users + `,"privateChats":[{"users":[1,2],"messages":[{"id":1,"date":10,"from":1,"text":"hi","entities":[{"type":"blink","offset":0,"length":1}]}]}]}`, `entity 0: unknown type "blink"`},
		{"entity-url", `{` + users + `,"privateChats":[{"users":[1,2],"messages":[{"id":1,"date":10,"from":1,"text":"hi","entities":[{"type":"textUrl","offset":0,"length":1}]}]}]}`, "entity 0: textUrl needs a url"},
		{"read-member", `{` + users + `,"groups":[{"id":9,"title":"G","creator":1,"date":1,"readInbox":{"2":1},"messages":[{"id":1,"date":10,"from":1,"text":"hi"}]}]}`, "group 9: readInbox: user 2 is not a member"},
		{"read-beyond", `{` + users + `,"privateChats":[{"users":[1,2],"readInbox":{"2":7},"messages":[{"id":1,"date":10,"from":1,"text":"hi"}]}]}`, "private chat 1-2: readInbox of user 2: 7"},
		{"pinned-stranger", `{"users":[{"id":1,"firstName":"A","pinned":[{"chat":9}]},{"id":2,"firstName":"B"}],"groups":[{"id":9,"title":"G","creator":2,"date":1,"messages":[]}]}`, "user 1: pinned chat:9 is not a chat of the user"},
		{"pinned-twice", `{"users":[{"id":1,"firstName":"A","pinned":[{"user":2},{"user":2}]},{"id":2,"firstName":"B"}],"privateChats":[{"users":[1,2],"messages":[]}]}`, "user 1: pinned user:2 twice"},
		{"pinned-peer", `{"users":[{"id":1,"firstName":"A","pinned":[{"user":2,"chat":9}]},{"id":2,"firstName":"B"}]}`, "user 1: pinned: a peer needs exactly one of"},
	} {
		path := filepath.Join(dir, tc.name+".json")
		if err := os.WriteFile(path, []byte(tc.body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := faketelegram.LoadFixture(path)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q, want the path and %q", tc.name, err, tc.want)
		}
	}
	if _, err := faketelegram.LoadFixture(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
	// The shipped fixture round-trips through a file.
	path := filepath.Join(dir, "default.json")
	if err := os.WriteFile(path, faketelegram.DefaultFixtureJSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := faketelegram.LoadFixture(path); err != nil {
		t.Fatal(err)
	}
}
