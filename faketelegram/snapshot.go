package faketelegram

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// Dialog is one dialog of a user as the server serves it now.
type Dialog struct {
	Peer   Peer `json:"peer"`
	Pinned bool `json:"pinned,omitempty"`
	// TopMessage is the newest message's id (dialog.top_message).
	TopMessage      int `json:"topMessage"`
	ReadInboxMaxID  int `json:"readInboxMaxId"`
	ReadOutboxMaxID int `json:"readOutboxMaxId"`
	UnreadCount     int `json:"unreadCount"`
	// Messages is the whole history, oldest first; its length is the count
	// messages.getHistory answers.
	Messages []Message `json:"messages"`
}

// Message is a message as the server serves it to one user now.
type Message struct {
	// Peer is the chat as the user sees it (its peer_id; for a private
	// chat, the other user).
	Peer     Peer            `json:"peer"`
	ID       int             `json:"id"`
	Date     int             `json:"date"`
	EditDate int             `json:"editDate,omitempty"`
	From     int64           `json:"from,omitempty"`
	Out      bool            `json:"out,omitempty"`
	Text     string          `json:"text,omitempty"`
	Entities []FixtureEntity `json:"entities,omitempty"`
	ReplyTo  int             `json:"replyTo,omitempty"`
	// Action is the kind of a service message (FixtureAction.Kind).
	Action string `json:"action,omitempty"`
	// Media is the kind of the media placeholder (FixtureMedia.Kind).
	Media string `json:"media,omitempty"`
}

func message(ch *chat, m *FixtureMessage, viewer int64) Message {
	out := Message{
		Peer: ch.conv.peerFor(viewer).peer(), ID: m.ID, Date: m.Date, EditDate: m.EditDate, From: m.From,
		Out: ch.conv.isOut(m, viewer), Text: m.Text, Entities: slices.Clone(m.Entities), ReplyTo: m.ReplyTo,
	}
	if m.Action != nil {
		out.Action = m.Action.Kind
		if m.Action.Kind == ActionPinMessage {
			out.ReplyTo = m.Action.MessageID // Telegram sends the pinned message as reply_to
		}
	}
	if m.Media != nil {
		out.Media = m.Media.Kind
	}
	return out
}

func dialog(ch *chat, viewer int64, pinned bool) Dialog {
	d := Dialog{
		Peer: ch.conv.peerFor(viewer).peer(), Pinned: pinned, TopMessage: ch.top().ID,
		ReadInboxMaxID: ch.readInbox[viewer], ReadOutboxMaxID: ch.readOutbox(viewer), UnreadCount: ch.unread(viewer),
		Messages: make([]Message, len(ch.msgs)),
	}
	for i := range ch.msgs {
		d.Messages[i] = message(ch, &ch.msgs[i], viewer)
	}
	return d
}

// Dialogs returns every dialog of a fixture user with every message, as the
// server would serve them now (after PostMessage, EditMessage and
// DeleteMessages), in messages.getDialogs order: pinned dialogs first, in
// pin order, then the others by their newest message, newest first. A test
// compares what a client stored against it.
func (s *Server) Dialogs(userID int64) ([]Dialog, error) {
	if _, ok := s.fx.User(userID); !ok {
		return nil, inputErr("userId", "no fixture user %d", userID)
	}
	s.w.mu.RLock()
	defer s.w.mu.RUnlock()
	pinned, others := s.w.dialogs(userID)
	out := make([]Dialog, 0, len(pinned)+len(others))
	for _, ch := range pinned {
		out = append(out, dialog(ch, userID, true))
	}
	for _, ch := range others {
		out = append(out, dialog(ch, userID, false))
	}
	return out, nil
}

// Digest sums up a user's dialogs: how many dialogs and messages, and the
// Checksum of all the messages.
type Digest struct {
	Dialogs  int    `json:"dialogs"`
	Messages int    `json:"messages"`
	Checksum string `json:"checksum"`
}

// Digest returns the Digest of Dialogs(userID).
func (s *Server) Digest(userID int64) (Digest, error) {
	ds, err := s.Dialogs(userID)
	if err != nil {
		return Digest{}, err
	}
	var all []Message
	for _, d := range ds {
		all = append(all, d.Messages...)
	}
	return Digest{Dialogs: len(ds), Messages: len(all), Checksum: Checksum(all)}, nil
}

// Checksum is the SHA-256, in hex, of messages' peer, id, date, edit date and
// text, in any order: one line per message, sorted by peer (users, chats,
// channels; each by id) then id,
//
//	<peer> <id> <date> <editDate> <length of text in bytes>:<text>\n
//
// where peer is Peer.String() ("user:1002") and editDate is 0 when unedited.
// Other fields are ignored, so a test can fill a Message from what it stored.
func Checksum(msgs []Message) string {
	type line struct {
		peer peerKey
		m    *Message
	}
	lines := make([]line, 0, len(msgs))
	for i := range msgs {
		k, _ := msgs[i].Peer.key()
		lines = append(lines, line{k, &msgs[i]})
	}
	slices.SortFunc(lines, func(a, b line) int {
		switch {
		case a.peer.kind != b.peer.kind:
			return a.peer.kind - b.peer.kind
		case a.peer.id != b.peer.id:
			if a.peer.id < b.peer.id {
				return -1
			}
			return 1
		}
		return a.m.ID - b.m.ID
	})
	h := sha256.New()
	var b strings.Builder
	for _, l := range lines {
		b.Reset()
		fmt.Fprintf(&b, "%s %d %d %d %d:%s\n", l.m.Peer, l.m.ID, l.m.Date, l.m.EditDate, len(l.m.Text), l.m.Text)
		_, _ = h.Write([]byte(b.String()))
	}
	return hex.EncodeToString(h.Sum(nil))
}
