package faketelegram_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/telegram/query/dialogs"
	"github.com/gotd/td/tg"

	"github.com/communicator/communicator/faketelegram"
)

// smallFixture is a world small enough to know every answer. User 1 has
// seven dialogs: pinned user:4 (top date 130) and chat:10 (170), then
// channel:21 (220), user:5 (210), user:2 (200), channel:20 (190) and
// user:3 (190, the same date: the peer breaks the tie, channels first).
const smallFixture = `{
 "users": [
  {"id":1,"accessHash":11,"firstName":"One","pinned":[{"user":4},{"chat":10}]},
  {"id":2,"accessHash":22,"firstName":"Two"},
  {"id":3,"accessHash":33,"firstName":"Three"},
  {"id":4,"accessHash":44,"firstName":"Four"},
  {"id":5,"accessHash":55,"firstName":"Five"}
 ],
 "privateChats": [
  {"users":[1,2],"readInbox":{"1":5},"messages":[
   {"id":1,"date":100,"from":2,"text":"hi"},
   {"id":2,"date":110,"from":1,"text":"hello"},
   {"id":5,"date":140,"from":2,"text":"read up to here"},
   {"id":6,"date":150,"from":2,"text":"unread 1"},
   {"id":9,"date":200,"from":2,"text":"unread 2","entities":[{"type":"bold","offset":0,"length":6}]}]},
  {"users":[1,3],"messages":[{"id":3,"date":190,"from":3,"text":"three"}]},
  {"users":[1,4],"messages":[{"id":4,"date":130,"from":1,"text":"pinned, old"}]},
  {"users":[1,5],"readInbox":{"1":0},"messages":[{"id":10,"date":210,"from":5,"text":"never read"}]}
 ],
 "groups": [
  {"id":10,"title":"Ten","creator":1,"members":[2,3],"date":90,"readInbox":{"1":7,"2":8},"messages":[
   {"id":7,"date":160,"from":1,"action":{"kind":"chatCreate","title":"Ten","users":[1,2,3]}},
   {"id":8,"date":170,"from":3,"text":"in the group"}]}
 ],
 "channels": [
  {"id":20,"accessHash":2020,"title":"Broadcast","creator":2,"members":[1],"date":95,"readInbox":{"1":1},"messages":[
   {"id":1,"date":95,"action":{"kind":"channelCreate","title":"Broadcast"}},
   {"id":2,"date":180,"text":"post 2","views":3},
   {"id":3,"date":190,"text":"post 3","views":2}]},
  {"id":21,"accessHash":2121,"title":"Mega","megagroup":true,"creator":3,"members":[1,2],"date":96,"messages":[
   {"id":1,"date":96,"from":3,"action":{"kind":"channelCreate","title":"Mega"}},
   {"id":2,"date":220,"from":1,"text":"mine"}]}
 ]
}`

func startSmall(t *testing.T) (*faketelegram.Server, string) {
	t.Helper()
	f, err := faketelegram.ParseFixture("small", []byte(smallFixture))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := faketelegram.Start(ctx, faketelegram.Options{Fixture: f, Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	sess, err := s.MintSession(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	return s, sess
}

// dialogPage is what a test reads of a getDialogs answer.
type dialogPage struct {
	count   int // slice count; -1 for messages.dialogs
	peers   []string
	pinned  []bool
	dialogs []*tg.Dialog
	offset  tg.MessagesGetDialogsRequest // the next page's offsets, as gotd's iterator sets them
}

func peerString(p tg.PeerClass) string {
	switch p := p.(type) {
	case *tg.PeerUser:
		return fmt.Sprintf("user:%d", p.UserID)
	case *tg.PeerChat:
		return fmt.Sprintf("chat:%d", p.ChatID)
	case *tg.PeerChannel:
		return fmt.Sprintf("channel:%d", p.ChannelID)
	}
	return "?"
}

func getDialogs(t *testing.T, ctx context.Context, api *tg.Client, req tg.MessagesGetDialogsRequest) dialogPage {
	t.Helper()
	if req.OffsetPeer == nil {
		req.OffsetPeer = &tg.InputPeerEmpty{}
	}
	res, err := api.MessagesGetDialogs(ctx, &req)
	if err != nil {
		t.Fatalf("getDialogs %+v: %v", req, err)
	}
	var p dialogPage
	var ds []tg.DialogClass
	var msgs []tg.MessageClass
	var users []tg.UserClass
	var chats []tg.ChatClass
	switch r := res.(type) {
	case *tg.MessagesDialogs:
		p.count, ds, msgs, users, chats = -1, r.Dialogs, r.Messages, r.Users, r.Chats
	case *tg.MessagesDialogsSlice:
		p.count, ds, msgs, users, chats = r.Count, r.Dialogs, r.Messages, r.Users, r.Chats
	default:
		t.Fatalf("getDialogs: %T", res)
	}
	if len(msgs) != len(ds) {
		t.Fatalf("%d dialogs, %d messages", len(ds), len(msgs))
	}
	for i, d := range ds {
		d := d.(*tg.Dialog)
		p.dialogs = append(p.dialogs, d)
		p.peers = append(p.peers, peerString(d.Peer))
		p.pinned = append(p.pinned, d.Pinned)
		if m := msgs[i]; m.GetID() != d.TopMessage || peerString(m.(interface{ GetPeerID() tg.PeerClass }).GetPeerID()) != p.peers[i] {
			t.Errorf("dialog %s: top message %d, message %d of %v", p.peers[i], d.TopMessage, m.GetID(), m)
		}
	}
	if len(ds) > 0 {
		last := ds[len(ds)-1].(*tg.Dialog)
		top := msgs[len(msgs)-1].(interface{ GetDate() int })
		p.offset = tg.MessagesGetDialogsRequest{OffsetID: last.TopMessage, OffsetDate: top.GetDate(), Limit: req.Limit, ExcludePinned: req.ExcludePinned}
		switch pe := last.Peer.(type) {
		case *tg.PeerUser:
			for _, u := range users {
				if u.GetID() == pe.UserID {
					p.offset.OffsetPeer = &tg.InputPeerUser{UserID: pe.UserID, AccessHash: u.(*tg.User).AccessHash}
				}
			}
		case *tg.PeerChat:
			p.offset.OffsetPeer = &tg.InputPeerChat{ChatID: pe.ChatID}
		case *tg.PeerChannel:
			for _, c := range chats {
				if c.GetID() == pe.ChannelID {
					p.offset.OffsetPeer = &tg.InputPeerChannel{ChannelID: pe.ChannelID, AccessHash: c.(*tg.Channel).AccessHash}
				}
			}
		}
	}
	return p
}

func join(xs []string) string { return strings.Join(xs, " ") }

func TestDialogsPinnedUnreadAndPaging(t *testing.T) {
	s, sess := startSmall(t)
	run(t, newClient(t, s, sess), func(ctx context.Context, api *tg.Client) error {
		// Everything at once: pinned first, in pin order, then by date.
		all := getDialogs(t, ctx, api, tg.MessagesGetDialogsRequest{Limit: 100})
		if all.count != -1 || join(all.peers) != "user:4 chat:10 channel:21 user:5 user:2 channel:20 user:3" {
			t.Fatalf("all: count %d, %v", all.count, all.peers)
		}
		want := map[string]struct{ pinned, unread, readIn, readOut int }{
			"user:4":     {1, 0, 4, 4},
			"chat:10":    {1, 1, 7, 8},
			"channel:21": {0, 0, 2, 2},
			"user:5":     {0, 1, 0, 10},
			"user:2":     {0, 2, 5, 9},
			"channel:20": {0, 2, 1, 3},
			"user:3":     {0, 0, 3, 3},
		}
		for i, d := range all.dialogs {
			w := want[all.peers[i]]
			if d.Pinned != (w.pinned == 1) || d.UnreadCount != w.unread || d.ReadInboxMaxID != w.readIn || d.ReadOutboxMaxID != w.readOut {
				t.Errorf("%s: pinned %v, unread %d, read inbox %d, outbox %d; want %+v", all.peers[i], d.Pinned, d.UnreadCount, d.ReadInboxMaxID, d.ReadOutboxMaxID, w)
			}
		}

		// limit 1: the first page holds every pinned dialog and one more;
		// later pages hold no pinned dialog; the count is always 7.
		var pages []string
		req := tg.MessagesGetDialogsRequest{Limit: 1}
		for range 10 {
			p := getDialogs(t, ctx, api, req)
			if p.count != 7 {
				t.Fatalf("page %v: count %d, want 7", p.peers, p.count)
			}
			if len(p.peers) == 0 {
				break
			}
			pages = append(pages, join(p.peers))
			req = p.offset
		}
		if got := strings.Join(pages, " | "); got != "user:4 chat:10 channel:21 | user:5 | user:2 | channel:20 | user:3" {
			t.Errorf("pages of 1: %s", got)
		}
		// exclude_pinned leaves them out, and the count still holds them.
		if p := getDialogs(t, ctx, api, tg.MessagesGetDialogsRequest{Limit: 2, ExcludePinned: true}); p.count != 7 || join(p.peers) != "channel:21 user:5" {
			t.Errorf("exclude_pinned: %d %v", p.count, p.peers)
		}
		// offset_date alone: dialogs older than it.
		if p := getDialogs(t, ctx, api, tg.MessagesGetDialogsRequest{Limit: 10, OffsetDate: 200}); join(p.peers) != "channel:20 user:3" {
			t.Errorf("offset_date 200: %v", p.peers)
		}
		// The archive is empty.
		if p := getDialogs(t, ctx, api, tg.MessagesGetDialogsRequest{Limit: 10, FolderID: 1}); p.count != -1 || len(p.peers) != 0 {
			t.Errorf("folder 1: %d %v", p.count, p.peers)
		}

		// gotd's own iterator sees each dialog once.
		var seen []string
		it := dialogs.NewQueryBuilder(api).GetDialogs().BatchSize(2).Iter()
		for it.Next(ctx) {
			seen = append(seen, peerString(it.Value().Dialog.GetPeer()))
		}
		if err := it.Err(); err != nil {
			return err
		}
		if join(seen) != join(all.peers) {
			t.Errorf("gotd iterator: %v", seen)
		}
		return nil
	})
}

func TestHistoryCount(t *testing.T) {
	s, sess := startSmall(t)
	run(t, newClient(t, s, sess), func(ctx context.Context, api *tg.Client) error {
		peer := &tg.InputPeerUser{UserID: 2, AccessHash: 22}
		history := func(req tg.MessagesGetHistoryRequest) (tg.MessagesMessagesClass, []int) {
			t.Helper()
			req.Peer = peer
			res, err := api.MessagesGetHistory(ctx, &req)
			if err != nil {
				t.Fatal(err)
			}
			mm, _ := res.AsModified()
			return res, msgIDs(t, mm.GetMessages())
		}
		// The chat has 5 messages (ids 1 2 5 6 9): every partial page counts 5.
		for _, tc := range []struct {
			req    tg.MessagesGetHistoryRequest
			ids    string
			offset int // offset_id_offset; -1: not set
		}{
			{tg.MessagesGetHistoryRequest{Limit: 2}, "[9 6]", -1},
			{tg.MessagesGetHistoryRequest{OffsetID: 6, Limit: 2}, "[5 2]", 2},
			{tg.MessagesGetHistoryRequest{OffsetID: 2, Limit: 2}, "[1]", 4},
			{tg.MessagesGetHistoryRequest{OffsetID: 1, Limit: 2}, "[]", 5},
			{tg.MessagesGetHistoryRequest{OffsetID: 100, MaxID: 9, Limit: 3}, "[6 5]", 1},
			{tg.MessagesGetHistoryRequest{MinID: 2, Limit: 100}, "[9 6 5]", -1},
			{tg.MessagesGetHistoryRequest{OffsetDate: 150, Limit: 2}, "[5 2]", 2},
		} {
			res, ids := history(tc.req)
			sl, ok := res.(*tg.MessagesMessagesSlice)
			if !ok || sl.Count != 5 || fmt.Sprint(ids) != tc.ids {
				t.Errorf("%+v: %T count %v, %v; want a slice of %s, count 5", tc.req, res, sl, ids, tc.ids)
				continue
			}
			if off, set := sl.GetOffsetIDOffset(); (tc.offset < 0 && set) || (tc.offset >= 0 && (!set || off != tc.offset)) {
				t.Errorf("%+v: offset_id_offset %d (set %v), want %d", tc.req, off, set, tc.offset)
			}
		}
		// The whole history is messages.messages.
		if res, ids := history(tg.MessagesGetHistoryRequest{Limit: 5}); res.TypeID() != tg.MessagesMessagesTypeID || len(ids) != 5 {
			t.Errorf("whole: %T %v", res, ids)
		}
		// Entities reach the client.
		res, _ := api.MessagesGetHistory(ctx, &tg.MessagesGetHistoryRequest{Peer: peer, Limit: 1})
		mm, _ := res.AsModified()
		m := mm.GetMessages()[0].(*tg.Message)
		if b, ok := m.Entities[0].(*tg.MessageEntityBold); len(m.Entities) != 1 || !ok || b.Offset != 0 || b.Length != 6 {
			t.Errorf("entities: %v", m.Entities)
		}
		// A channel counts its messages too, and a broadcast's creator's
		// posts are "out" only for the creator.
		res, err := api.MessagesGetHistory(ctx, &tg.MessagesGetHistoryRequest{Peer: &tg.InputPeerChannel{ChannelID: 20, AccessHash: 2020}, Limit: 1})
		if err != nil {
			return err
		}
		if cm, ok := res.(*tg.MessagesChannelMessages); !ok || cm.Count != 3 || cm.Pts != 3 || cm.Messages[0].(*tg.Message).Out {
			t.Errorf("channel: %v", res)
		}
		return nil
	})
}
