package faketelegram

import (
	"slices"
	"sort"
	"sync"
)

// world is what one server serves now: the fixture's chats with the
// messages posted, edited and deleted since Start. The fixture itself is
// never changed (servers may share it). Every answer is built under mu.
type world struct {
	mu      sync.RWMutex
	ix      *index
	chats   map[*conv]*chat
	member  map[int64][]*chat // each user's chats, in fixture order
	pinned  map[int64][]*chat // each user's pinned chats, in pin order
	nextBox int               // next id of the sequence private chats and groups share
	pts     map[int64]int     // each user's pts (updates.getState): one per event in their private chats and groups
}

// chat is a conv as it is now.
type chat struct {
	conv *conv
	// msgs are the messages not deleted, oldest first (ids increasing,
	// dates not decreasing).
	msgs []FixtureMessage
	// nextID is a channel's next message id (channels have their own
	// sequence; private chats and groups use world.nextBox).
	nextID int
	// pts is a channel's pts: one per event (message, edit, deletion).
	pts int
	// readInbox is each member's read_inbox_max_id.
	readInbox map[int64]int
}

func newWorld(ix *index) *world {
	w := &world{ix: ix, chats: map[*conv]*chat{}, member: map[int64][]*chat{}, pinned: map[int64][]*chat{}, pts: map[int64]int{}}
	maxBox := 0
	for _, c := range ix.convs {
		ch := &chat{conv: c, msgs: slices.Clone(c.msgs), readInbox: map[int64]int{}}
		top := 0
		if len(c.msgs) > 0 {
			top = c.msgs[len(c.msgs)-1].ID
		}
		for u := range c.members {
			if id, ok := c.readInbox[u]; ok {
				ch.readInbox[u] = id
			} else {
				ch.readInbox[u] = top
			}
		}
		if c.kind == peerChannel {
			ch.nextID = top + 1
			for _, m := range c.msgs {
				ch.pts++
				if m.EditDate != 0 {
					ch.pts++
				}
			}
		} else {
			maxBox = max(maxBox, top)
			for u := range c.members {
				w.pts[u] += len(c.msgs)
			}
		}
		w.chats[c] = ch
		for u := range c.members {
			w.member[u] = append(w.member[u], ch)
		}
	}
	w.nextBox = maxBox + 1
	for u, cs := range ix.pinned {
		for _, c := range cs {
			w.pinned[u] = append(w.pinned[u], w.chats[c])
		}
	}
	return w
}

// top returns the newest message, nil when there is none.
func (ch *chat) top() *FixtureMessage {
	if len(ch.msgs) == 0 {
		return nil
	}
	return &ch.msgs[len(ch.msgs)-1]
}

// find returns the index of message id in msgs, or -1.
func (ch *chat) find(id int) int {
	i := sort.Search(len(ch.msgs), func(i int) bool { return ch.msgs[i].ID >= id })
	if i < len(ch.msgs) && ch.msgs[i].ID == id {
		return i
	}
	return -1
}

// unread is viewer's unread_count: messages newer than their
// read_inbox_max_id that they did not send.
func (ch *chat) unread(viewer int64) int {
	read := ch.readInbox[viewer]
	n := 0
	for i := len(ch.msgs) - 1; i >= 0 && ch.msgs[i].ID > read; i-- {
		if !ch.conv.isOut(&ch.msgs[i], viewer) {
			n++
		}
	}
	return n
}

// readOutbox is viewer's read_outbox_max_id: the newest message another
// member has read.
func (ch *chat) readOutbox(viewer int64) int {
	n := 0
	for u, id := range ch.readInbox {
		if u != viewer {
			n = max(n, id)
		}
	}
	return n
}

// dialogKey orders a user's unpinned dialogs: by top message date, then by
// peer, so the order is total. Lists are sorted by it, greatest first.
type dialogKey struct {
	date int
	peer peerKey
}

func (a dialogKey) less(b dialogKey) bool {
	if a.date != b.date {
		return a.date < b.date
	}
	if a.peer.kind != b.peer.kind {
		return a.peer.kind < b.peer.kind
	}
	return a.peer.id < b.peer.id
}

func (ch *chat) key(viewer int64) dialogKey {
	return dialogKey{date: ch.top().Date, peer: ch.conv.peerFor(viewer)}
}

// dialogs returns user's dialogs: the pinned ones in pin order, and the
// others by dialogKey, greatest first. A chat without messages is not a
// dialog (Telegram lists chats by their top message). w.mu must be held.
func (w *world) dialogs(user int64) (pinned, others []*chat) {
	isPinned := map[*chat]bool{}
	for _, ch := range w.pinned[user] {
		isPinned[ch] = true
		if len(ch.msgs) > 0 {
			pinned = append(pinned, ch)
		}
	}
	for _, ch := range w.member[user] {
		if !isPinned[ch] && len(ch.msgs) > 0 {
			others = append(others, ch)
		}
	}
	sort.SliceStable(others, func(i, j int) bool { return others[j].key(user).less(others[i].key(user)) })
	return pinned, others
}

// chat returns the chat of user's peer k, nil when it is none of theirs.
func (w *world) chat(user int64, k peerKey) *chat {
	c := w.ix.dialog(user, k)
	if c == nil {
		return nil
	}
	return w.chats[c]
}

// peekID returns the id the next message of ch gets. w.mu must be held.
func (w *world) peekID(ch *chat) int {
	if ch.conv.kind == peerChannel {
		return ch.nextID
	}
	return w.nextBox
}

// takeID uses up the id peekID returned: ids are never reused.
func (w *world) takeID(ch *chat) {
	if ch.conv.kind == peerChannel {
		ch.nextID++
	} else {
		w.nextBox++
	}
}

// events counts n updates of ch in the pts that cover it.
func (w *world) events(ch *chat, n int) {
	if ch.conv.kind == peerChannel {
		ch.pts += n
		return
	}
	for u := range ch.conv.members {
		w.pts[u] += n
	}
}
