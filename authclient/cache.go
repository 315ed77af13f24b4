package authclient

import "github.com/communicator/communicator/telegramauth"

// entry is a cached session and its place in the LRU list (intrusive: no
// allocation besides the entry itself, none at all on a hit).
type entry struct {
	userID     int64
	sess       telegramauth.Session
	src        Source
	validUntil int64 // unix nanoseconds: min(fetchedAt+TTL, expiresAt-ExpiryMargin)
	prev, next *entry
}

// lru is a map plus a doubly linked list, most recently used first. It is
// not safe for concurrent use; Client guards it with its mutex.
type lru struct {
	m    map[int64]*entry
	root entry // sentinel: root.next is the most recent, root.prev the least
	cap  int
}

func (l *lru) init(capacity int) {
	l.m = make(map[int64]*entry, min(capacity, 1024))
	l.root.next, l.root.prev = &l.root, &l.root
	l.cap = capacity
}

func (l *lru) len() int { return len(l.m) }

func (l *lru) get(userID int64) *entry { return l.m[userID] }

func (l *lru) unlink(e *entry) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev, e.next = nil, nil
}

func (l *lru) pushFront(e *entry) {
	e.prev = &l.root
	e.next = l.root.next
	l.root.next.prev = e
	l.root.next = e
}

func (l *lru) touch(e *entry) {
	if l.root.next == e {
		return
	}
	l.unlink(e)
	l.pushFront(e)
}

func (l *lru) remove(e *entry) {
	l.unlink(e)
	delete(l.m, e.userID)
}

// put stores the session for its user, replacing any entry, and returns how
// many entries it evicted to stay within the capacity.
func (l *lru) put(userID int64, s telegramauth.Session, src Source, validUntil int64) (evicted int) {
	if e := l.m[userID]; e != nil {
		e.sess, e.src, e.validUntil = s, src, validUntil
		l.touch(e)
		return 0
	}
	for len(l.m) >= l.cap && l.root.prev != &l.root {
		l.remove(l.root.prev)
		evicted++
	}
	e := &entry{userID: userID, sess: s, src: src, validUntil: validUntil}
	l.m[userID] = e
	l.pushFront(e)
	return evicted
}

// removeSession removes every entry holding sessionID and returns how many.
func (l *lru) removeSession(sessionID string) (n int) {
	for e := l.root.next; e != &l.root; {
		next := e.next
		if e.sess.SessionID == sessionID {
			l.remove(e)
			n++
		}
		e = next
	}
	return n
}

func (l *lru) clear() {
	clear(l.m)
	l.root.next, l.root.prev = &l.root, &l.root
}
