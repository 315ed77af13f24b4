package faketelegram_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gotd/td/telegram/query/dialogs"
	"github.com/gotd/td/telegram/query/messages"
	"github.com/gotd/td/tg"

	"github.com/communicator/communicator/faketelegram"
)

func fieldOf(err error) string {
	var ie *faketelegram.InputError
	if !errors.As(err, &ie) {
		return fmt.Sprintf("not an InputError: %v", err)
	}
	return ie.Field
}

// topOf returns the newest message of a history answer and its count.
func topOf(t *testing.T, ctx context.Context, api *tg.Client, peer tg.InputPeerClass) (*tg.Message, int) {
	t.Helper()
	res, err := api.MessagesGetHistory(ctx, &tg.MessagesGetHistoryRequest{Peer: peer, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	var count int
	switch r := res.(type) {
	case *tg.MessagesMessages:
		count = len(r.Messages)
	case *tg.MessagesMessagesSlice:
		count = r.Count
	case *tg.MessagesChannelMessages:
		count = r.Count
	}
	mm, _ := res.AsModified()
	if len(mm.GetMessages()) == 0 {
		return nil, count
	}
	m, _ := mm.GetMessages()[0].(*tg.Message)
	return m, count
}

func TestPostEditDelete(t *testing.T) {
	s, sess := startSmall(t)
	user2 := &tg.InputPeerUser{UserID: 2, AccessHash: 22}
	bcast := &tg.InputPeerChannel{ChannelID: 20, AccessHash: 2020}
	run(t, newClient(t, s, sess), func(ctx context.Context, api *tg.Client) error {
		st0, err := api.UpdatesGetState(ctx)
		if err != nil {
			return err
		}
		// A new message from 2, replying to 6, with a bold word.
		posted, err := s.PostMessage(1, faketelegram.Peer{User: 2}, faketelegram.Post{From: 2, Text: "new 👋 message", ReplyTo: 6,
			Entities: []faketelegram.FixtureEntity{{Type: faketelegram.EntityBold, Offset: 4, Length: 2}}})
		if err != nil {
			t.Fatal(err)
		}
		// Private chats and groups share one sequence, whose highest id was 10.
		if posted.ID != 11 || posted.Out || posted.From != 2 || posted.Date < 220 || posted.Peer != (faketelegram.Peer{User: 2}) {
			t.Fatalf("posted %+v", posted)
		}
		m, count := topOf(t, ctx, api, user2)
		if m.ID != 11 || m.Message != "new 👋 message" || m.Out || m.Date != posted.Date || count != 6 {
			t.Errorf("after the post: top %v, count %d", m, count)
		}
		if r, ok := m.ReplyTo.(*tg.MessageReplyHeader); !ok || r.ReplyToMsgID != 6 {
			t.Errorf("reply_to %v", m.ReplyTo)
		}
		if b, ok := m.Entities[0].(*tg.MessageEntityBold); !ok || b.Offset != 4 || b.Length != 2 {
			t.Errorf("entities %v", m.Entities)
		}
		all := getDialogs(t, ctx, api, tg.MessagesGetDialogsRequest{Limit: 100})
		if join(all.peers) != "user:4 chat:10 user:2 channel:21 user:5 channel:20 user:3" || all.dialogs[2].TopMessage != 11 || all.dialogs[2].UnreadCount != 3 {
			t.Errorf("dialogs after the post: %v, %+v", all.peers, all.dialogs[2])
		}
		if st, err := api.UpdatesGetState(ctx); err != nil || st.Pts != st0.Pts+1 {
			t.Errorf("pts %d → %v (%v)", st0.Pts, st, err)
		}
		// The other side sees it as outgoing, in their chat with 1.
		ds, err := s.Dialogs(2)
		if err != nil {
			return err
		}
		if d := ds[0]; d.Peer != (faketelegram.Peer{User: 1}) || d.TopMessage != 11 || !d.Messages[len(d.Messages)-1].Out {
			t.Errorf("user 2's newest dialog: %+v", d)
		}

		// Edit: new text and entities, edit_date set; the dialog stays where it is.
		edited, err := s.EditMessage(1, faketelegram.Peer{User: 2}, 11, faketelegram.Edit{Text: "edited"})
		if err != nil {
			t.Fatal(err)
		}
		m, count = topOf(t, ctx, api, user2)
		if m.ID != 11 || m.Message != "edited" || len(m.Entities) != 0 || m.EditDate != edited.EditDate || m.EditDate < m.Date || count != 6 {
			t.Errorf("after the edit: %v, count %d", m, count)
		}
		if p := getDialogs(t, ctx, api, tg.MessagesGetDialogsRequest{Limit: 1}); join(p.peers) != "user:4 chat:10 user:2" {
			t.Errorf("dialogs after the edit: %v", p.peers)
		}
		// An old message can be edited with a date of one's choosing.
		if e, err := s.EditMessage(1, faketelegram.Peer{User: 2}, 1, faketelegram.Edit{Text: "hi!", Date: 105}); err != nil || e.EditDate != 105 {
			t.Errorf("edit of message 1: %+v %v", e, err)
		}

		// Delete: gone from the history, the count, the top message and the unread count.
		if err := s.DeleteMessages(1, faketelegram.Peer{User: 2}, 11); err != nil {
			t.Fatal(err)
		}
		m, count = topOf(t, ctx, api, user2)
		if m.ID != 9 || count != 5 {
			t.Errorf("after the deletion: top %d, count %d", m.ID, count)
		}
		all = getDialogs(t, ctx, api, tg.MessagesGetDialogsRequest{Limit: 100})
		if join(all.peers) != "user:4 chat:10 channel:21 user:5 user:2 channel:20 user:3" || all.dialogs[4].UnreadCount != 2 || all.dialogs[4].TopMessage != 9 {
			t.Errorf("dialogs after the deletion: %v %+v", all.peers, all.dialogs[4])
		}
		// Ids are never reused.
		again, err := s.PostMessage(1, faketelegram.Peer{User: 2}, faketelegram.Post{From: 1, Text: "again"})
		if err != nil || again.ID != 12 || !again.Out {
			t.Errorf("re-post: %+v %v", again, err)
		}

		// A broadcast channel: posts have no sender and their own ids.
		post, err := s.PostMessage(1, faketelegram.Peer{Channel: 20}, faketelegram.Post{Text: "post 4", Date: 300})
		if err != nil || post.ID != 4 || post.From != 0 || post.Date != 300 {
			t.Fatalf("channel post: %+v %v", post, err)
		}
		res, err := api.MessagesGetHistory(ctx, &tg.MessagesGetHistoryRequest{Peer: bcast, Limit: 10})
		if err != nil {
			return err
		}
		if cm := res.(*tg.MessagesChannelMessages); cm.Count != 4 || cm.Pts != 4 || cm.Messages[0].GetID() != 4 {
			t.Errorf("channel after the post: count %d, pts %d, %v", cm.Count, cm.Pts, msgIDs(t, cm.Messages))
		}
		// Deleting every message of a chat makes it no dialog.
		if err := s.DeleteMessages(1, faketelegram.Peer{Channel: 20}, 1, 2, 3, 4); err != nil {
			t.Fatal(err)
		}
		res, err = api.MessagesGetHistory(ctx, &tg.MessagesGetHistoryRequest{Peer: bcast, Limit: 10})
		if err != nil {
			return err
		}
		if cm := res.(*tg.MessagesChannelMessages); cm.Count != 0 || len(cm.Messages) != 0 || cm.Pts != 8 {
			t.Errorf("emptied channel: %+v", cm)
		}
		if p := getDialogs(t, ctx, api, tg.MessagesGetDialogsRequest{Limit: 100}); p.count != -1 || join(p.peers) != "user:4 chat:10 user:2 channel:21 user:5 user:3" {
			t.Errorf("dialogs without the emptied channel: %d %v", p.count, p.peers)
		}
		if p, err := s.PostMessage(1, faketelegram.Peer{Channel: 20}, faketelegram.Post{Text: "post 5"}); err != nil || p.ID != 5 {
			t.Errorf("post into the emptied channel: %+v %v", p, err)
		}
		return nil
	})
}

// Refused changes name the field at fault and change nothing.
func TestChangesRefused(t *testing.T) {
	s, _ := startSmall(t)
	before, err := s.Digest(1)
	if err != nil {
		t.Fatal(err)
	}
	p2 := faketelegram.Peer{User: 2}
	type post = faketelegram.Post
	type edit = faketelegram.Edit
	postIn := func(user int64, peer faketelegram.Peer, p post) error {
		_, err := s.PostMessage(user, peer, p)
		return err
	}
	editIn := func(peer faketelegram.Peer, id int, e edit) error {
		_, err := s.EditMessage(1, peer, id, e)
		return err
	}
	bold2 := []faketelegram.FixtureEntity{{Type: "bold", Offset: 0, Length: 2}}
	for _, tc := range []struct {
		name, field string
		err         error
	}{
		{"unknown user", "userId", postIn(99, p2, post{From: 1, Text: "x"})},
		{"no peer", "peer", postIn(1, faketelegram.Peer{}, post{From: 1, Text: "x"})},
		{"two peers", "peer", postIn(1, faketelegram.Peer{User: 2, Chat: 10}, post{From: 1, Text: "x"})},
		{"not their chat", "peer", postIn(4, faketelegram.Peer{Chat: 10}, post{From: 4, Text: "x"})},
		{"no sender", "from", postIn(1, p2, post{Text: "x"})},
		{"stranger", "from", postIn(1, p2, post{From: 3, Text: "x"})},
		{"broadcast sender", "from", postIn(1, faketelegram.Peer{Channel: 20}, post{From: 2, Text: "x"})},
		{"empty", "text", postIn(1, p2, post{From: 1})},
		{"entity", "entities", postIn(1, p2, post{From: 1, Text: "x", Entities: bold2})},
		{"reply", "replyTo", postIn(1, p2, post{From: 1, Text: "x", ReplyTo: 3})},
		{"date", "date", postIn(1, p2, post{From: 1, Text: "x", Date: 199})},
		{"edit unknown", "id", editIn(p2, 7, edit{Text: "x"})},
		{"edit service", "id", editIn(faketelegram.Peer{Chat: 10}, 7, edit{Text: "x"})},
		{"edit empty", "text", editIn(p2, 9, edit{})},
		{"edit date", "editDate", editIn(p2, 9, edit{Text: "x", Date: 199})},
		{"delete none", "ids", s.DeleteMessages(1, p2)},
		{"delete unknown", "ids", s.DeleteMessages(1, p2, 9, 10)},
		{"delete twice", "ids", s.DeleteMessages(1, p2, 9, 9)},
	} {
		if got := fieldOf(tc.err); got != tc.field {
			t.Errorf("%s: %v (field %q), want field %q", tc.name, tc.err, got, tc.field)
		}
	}
	if after, _ := s.Digest(1); after != before {
		t.Errorf("refused changes changed the state: %+v → %+v", before, after)
	}
}

// Dialogs, Digest and Checksum describe exactly what a client pages out of
// the server, before and after changes.
func TestDigestMatchesWhatAClientReads(t *testing.T) {
	// The shared server is read by other tests; change a server of our own.
	ctx := context.Background()
	s2, err := faketelegram.Start(ctx, faketelegram.Options{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	sess2, err := s2.MintSession(ctx, 1001)
	if err != nil {
		t.Fatal(err)
	}

	read := func() ([]faketelegram.Message, int) {
		var got []faketelegram.Message
		var nDialogs int
		run(t, newClient(t, s2, sess2), func(ctx context.Context, api *tg.Client) error {
			it := dialogs.NewQueryBuilder(api).GetDialogs().BatchSize(10).Iter()
			for it.Next(ctx) {
				nDialogs++
				h := messages.NewQueryBuilder(api).GetHistory(it.Value().Peer).BatchSize(100).Iter()
				n := 0
				for h.Next(ctx) {
					n++
					got = append(got, clientMessage(t, h.Value().Msg))
				}
				if err := h.Err(); err != nil {
					return err
				}
				total, err := h.Total(ctx)
				if err != nil {
					return err
				}
				if total != n {
					t.Errorf("%v: paged %d messages, count %d", it.Value().Dialog.GetPeer(), n, total)
				}
			}
			return it.Err()
		})
		return got, nDialogs
	}
	check := func(when string) {
		t.Helper()
		want, err := s2.Digest(1001)
		if err != nil {
			t.Fatal(err)
		}
		got, nDialogs := read()
		if nDialogs != want.Dialogs || len(got) != want.Messages || faketelegram.Checksum(got) != want.Checksum {
			t.Errorf("%s: client read %d dialogs, %d messages, checksum %s; Digest %+v", when, nDialogs, len(got), faketelegram.Checksum(got), want)
		}
		t.Logf("%s: %+v", when, want)
	}
	check("fixture")
	before, _ := s2.Digest(1001)
	if before.Dialogs < 25 || before.Messages < 5000 {
		t.Errorf("user 1001: %+v", before)
	}

	ds, err := s2.Dialogs(1001)
	if err != nil {
		t.Fatal(err)
	}
	grandma := faketelegram.Peer{User: 1021}
	if _, err := s2.PostMessage(1001, grandma, faketelegram.Post{From: 1021, Text: "Did you eat? 🍲"}); err != nil {
		t.Fatal(err)
	}
	long := ds[len(ds)-1]
	for _, d := range ds {
		if d.Peer == (faketelegram.Peer{User: 1002}) {
			long = d
		}
	}
	mid := long.Messages[len(long.Messages)/2]
	if _, err := s2.EditMessage(1001, long.Peer, mid.ID, faketelegram.Edit{Text: "rewritten"}); err != nil {
		t.Fatal(err)
	}
	if err := s2.DeleteMessages(1001, long.Peer, long.Messages[0].ID, long.Messages[1].ID); err != nil {
		t.Fatal(err)
	}
	check("after a post, an edit and two deletions")
	after, _ := s2.Digest(1001)
	if after.Messages != before.Messages-1 || after.Checksum == before.Checksum {
		t.Errorf("digest %+v → %+v", before, after)
	}
	// The checksum ignores order and fields other than peer, id, dates and text.
	all := []faketelegram.Message{{Peer: grandma, ID: 2, Date: 5, Text: "b"}, {Peer: faketelegram.Peer{Chat: 1}, ID: 1, Date: 5, Text: "a", Out: true}}
	swapped := []faketelegram.Message{all[1], all[0]}
	swapped[1].From = 77
	if faketelegram.Checksum(all) != faketelegram.Checksum(swapped) {
		t.Error("Checksum depends on order or on From/Out")
	}
	all[0].EditDate = 6
	if faketelegram.Checksum(all) == faketelegram.Checksum(swapped) {
		t.Error("Checksum ignores the edit date")
	}
}

// clientMessage is what an ingestor would store of a message.
func clientMessage(t *testing.T, m tg.NotEmptyMessage) faketelegram.Message {
	var p faketelegram.Peer
	switch pe := m.GetPeerID().(type) {
	case *tg.PeerUser:
		p.User = pe.UserID
	case *tg.PeerChat:
		p.Chat = pe.ChatID
	case *tg.PeerChannel:
		p.Channel = pe.ChannelID
	}
	out := faketelegram.Message{Peer: p, ID: m.GetID(), Date: m.GetDate()}
	if msg, ok := m.(*tg.Message); ok {
		out.Text = msg.Message
		out.EditDate, _ = msg.GetEditDate()
	}
	return out
}

// Paging by offset while messages arrive, as Telegram: a dialog that gets
// a message moves to the top, so a client paging on neither sees it twice
// nor, when it had not reached it yet, at all in this pass.
func TestDialogsPagingWhileMessagesArrive(t *testing.T) {
	s, sess := startSmall(t)
	run(t, newClient(t, s, sess), func(ctx context.Context, api *tg.Client) error {
		var pages []string
		req := tg.MessagesGetDialogsRequest{Limit: 1}
		for i := 0; i < 10; i++ {
			p := getDialogs(t, ctx, api, req)
			if p.count != 7 {
				t.Errorf("page %d: count %d", i, p.count)
			}
			if len(p.peers) == 0 {
				break
			}
			pages = append(pages, join(p.peers))
			req = p.offset
			if i == 1 { // after "user:5": one listed dialog and one not yet listed get messages
				for i, peer := range []faketelegram.Peer{{User: 5}, {User: 3}} {
					if _, err := s.PostMessage(1, peer, faketelegram.Post{From: peer.User, Text: "news", Date: 1000 + i}); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		if got := strings.Join(pages, " | "); got != "user:4 chat:10 channel:21 | user:5 | user:2 | channel:20" {
			t.Errorf("pages: %s", got)
		}
		// A new pass lists them first.
		if p := getDialogs(t, ctx, api, tg.MessagesGetDialogsRequest{Limit: 2}); join(p.peers) != "user:4 chat:10 user:3 user:5" {
			t.Errorf("new pass: %v", p.peers)
		}
		return nil
	})
}
