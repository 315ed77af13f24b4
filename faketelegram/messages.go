package faketelegram

import (
	"slices"
	"time"
)

// Post is a new message for PostMessage.
type Post struct {
	// From is the sender, a member of the chat. Posts of broadcast
	// channels have none (0), as Telegram shows them.
	From     int64
	Text     string
	Entities []FixtureEntity
	// ReplyTo is the id of a message of the chat that is not deleted; 0:
	// none.
	ReplyTo int
	// Date is the Unix time it was sent; 0: now, or the chat's newest
	// message's date if that is later. Never before the newest message.
	Date int
}

// Edit is a new text for EditMessage.
type Edit struct {
	// Text replaces the text (the caption of a media message; may then be
	// empty). Entities replace the entities.
	Text     string
	Entities []FixtureEntity
	// Date is the edit_date; 0: now, or the message's date or last
	// edit_date if that is later. Never before the message's date.
	Date int
}

// dialogOf resolves user's peer for a change and takes the write lock;
// the caller unlocks.
func (s *Server) dialogOf(user int64, peer Peer) (*chat, error) {
	if _, ok := s.fx.User(user); !ok {
		return nil, inputErr("userId", "no fixture user %d", user)
	}
	k, err := peer.key()
	if err != nil {
		return nil, inputErr("peer", "%v", err)
	}
	ch := s.w.chat(user, k)
	if ch == nil {
		return nil, inputErr("peer", "%s is not a chat of user %d", peer, user)
	}
	s.w.mu.Lock()
	return ch, nil
}

func now() int { return int(time.Now().Unix()) }

// PostMessage adds a message to the chat peer of user (peer as user sees
// it: {User: 1002} is user's private chat with 1002). It gets the next id of
// its sequence: private chats and groups share one, each channel has its
// own, and ids are never reused, even after a deletion. The dialog's top
// message, its place in getDialogs, its unread_count for the other members
// and the pts follow. It returns the message as user sees it.
func (s *Server) PostMessage(user int64, peer Peer, p Post) (Message, error) {
	ch, err := s.dialogOf(user, peer)
	if err != nil {
		return Message{}, err
	}
	defer s.w.mu.Unlock()
	c := ch.conv
	switch {
	case c.broadcast() && p.From != 0:
		return Message{}, inputErr("from", "posts of a broadcast channel have no sender (leave from out)")
	case !c.broadcast() && p.From == 0:
		return Message{}, inputErr("from", "from is required: the member who sends it")
	case !c.broadcast() && !c.members[p.From]:
		return Message{}, inputErr("from", "user %d is not a member of %s", p.From, c.category)
	}
	if p.Text == "" {
		return Message{}, inputErr("text", "text is required")
	}
	if err := s.fx.idx.checkEntities(p.Text, p.Entities); err != nil {
		return Message{}, inputErr("entities", "%v", err)
	}
	if p.ReplyTo != 0 && ch.find(p.ReplyTo) < 0 {
		return Message{}, inputErr("replyTo", "no message %d in %s", p.ReplyTo, peer)
	}
	prev := ch.top()
	date := p.Date
	switch {
	case date < 0:
		return Message{}, inputErr("date", "date must be a Unix time")
	case date == 0:
		date = now()
		if prev != nil {
			date = max(date, prev.Date)
		}
	case prev != nil && date < prev.Date:
		return Message{}, inputErr("date", "date %d is before the chat's newest message (%d)", date, prev.Date)
	}
	m := FixtureMessage{ID: s.w.peekID(ch), Date: date, From: p.From, Text: p.Text, Entities: slices.Clone(p.Entities), ReplyTo: p.ReplyTo}
	if err := s.fx.idx.checkMessage(c, &m, prev, func(id int) bool { return ch.find(id) >= 0 }); err != nil {
		return Message{}, inputErr("", "%v", err)
	}
	s.w.takeID(ch)
	ch.msgs = append(ch.msgs, m)
	s.w.events(ch, 1)
	return message(ch, &ch.msgs[len(ch.msgs)-1], user), nil
}

// EditMessage changes the text of message id of user's chat peer and sets
// its edit_date. Service messages cannot be edited. It returns the message
// as user sees it.
func (s *Server) EditMessage(user int64, peer Peer, id int, e Edit) (Message, error) {
	ch, err := s.dialogOf(user, peer)
	if err != nil {
		return Message{}, err
	}
	defer s.w.mu.Unlock()
	i := ch.find(id)
	if i < 0 {
		return Message{}, inputErr("id", "no message %d in %s", id, peer)
	}
	m := ch.msgs[i]
	if m.Action != nil {
		return Message{}, inputErr("id", "message %d is a service message; those cannot be edited", id)
	}
	if e.Text == "" && m.Media == nil {
		return Message{}, inputErr("text", "text is required (message %d has no media)", id)
	}
	if err := s.fx.idx.checkEntities(e.Text, e.Entities); err != nil {
		return Message{}, inputErr("entities", "%v", err)
	}
	date := e.Date
	switch {
	case date < 0:
		return Message{}, inputErr("editDate", "editDate must be a Unix time")
	case date == 0:
		date = max(now(), m.Date, m.EditDate)
	case date < m.Date:
		return Message{}, inputErr("editDate", "editDate %d is before the message's date (%d)", date, m.Date)
	}
	m.Text, m.Entities, m.EditDate = e.Text, slices.Clone(e.Entities), date
	ch.msgs[i] = m
	s.w.events(ch, 1)
	return message(ch, &ch.msgs[i], user), nil
}

// DeleteMessages deletes messages of user's chat peer for everyone: later
// answers do not hold them, the dialog's top message, count and
// unread_count follow, and a chat left without messages is no longer a
// dialog. Either every id exists and all are deleted, or none is.
func (s *Server) DeleteMessages(user int64, peer Peer, ids ...int) error {
	ch, err := s.dialogOf(user, peer)
	if err != nil {
		return err
	}
	defer s.w.mu.Unlock()
	if len(ids) == 0 {
		return inputErr("ids", "no message ids")
	}
	del := map[int]bool{}
	for _, id := range ids {
		if ch.find(id) < 0 {
			return inputErr("ids", "no message %d in %s", id, peer)
		}
		if del[id] {
			return inputErr("ids", "message %d listed twice", id)
		}
		del[id] = true
	}
	ch.msgs = slices.DeleteFunc(slices.Clone(ch.msgs), func(m FixtureMessage) bool { return del[m.ID] })
	s.w.events(ch, len(ids))
	return nil
}
