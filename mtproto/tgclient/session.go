package tgclient

import (
	"crypto/sha1"
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gotd/td/session"

	"github.com/communicator/communicator/mtproto/sessionstring"
)

// SessionData is the session in gotd's form (what gotd's session storage
// holds): data center, address, auth key and its id. Salt and config are left
// for the server to send.
func SessionData(s sessionstring.Session) *session.Data {
	id := s.AuthKeyID()
	return &session.Data{
		DC:        s.DC,
		Addr:      s.HostPort(),
		AuthKey:   append([]byte(nil), s.AuthKey[:]...),
		AuthKeyID: id[:],
	}
}

// FromSessionData converts gotd's session data into a string session. It
// checks the key's size and, when gotd stored one, the auth key id
// (SHA-1(key)[12:20]); errors never contain the key.
func FromSessionData(d *session.Data) (sessionstring.Session, error) {
	if d == nil {
		return sessionstring.Session{}, errors.New("gotd session: no data")
	}
	if len(d.AuthKey) != sessionstring.KeySize {
		return sessionstring.Session{}, errors.New("gotd session: auth key is " + strconv.Itoa(len(d.AuthKey)) + " bytes, want " + strconv.Itoa(sessionstring.KeySize))
	}
	if len(d.AuthKeyID) != 0 {
		sum := sha1.Sum(d.AuthKey)
		if len(d.AuthKeyID) != 8 || string(d.AuthKeyID) != string(sum[12:20]) {
			return sessionstring.Session{}, errors.New("gotd session: auth key id does not match the auth key")
		}
	}
	host, port, err := net.SplitHostPort(d.Addr)
	if err != nil {
		return sessionstring.Session{}, errors.New(`gotd session: address must be "host:port"`)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return sessionstring.Session{}, errors.New("gotd session: port is not a number")
	}
	s := sessionstring.Session{DC: d.DC, Addr: strings.ToLower(host), Port: p}
	if ip, err := netip.ParseAddr(host); err == nil {
		s.Addr = ip.String()
	}
	copy(s.AuthKey[:], d.AuthKey)
	if err := s.Validate(); err != nil {
		return sessionstring.Session{}, errors.New("gotd session: " + strings.TrimPrefix(err.Error(), "session string: "))
	}
	return s, nil
}

// ParseSessionJSON reads what gotd's session storage holds
// ({"Version":1,"Data":{...}}) into a string session.
func ParseSessionJSON(b []byte) (sessionstring.Session, error) {
	var v struct {
		Version int
		Data    *session.Data
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return sessionstring.Session{}, errors.New("gotd session: not JSON of gotd's session storage")
	}
	if v.Version != 1 {
		return sessionstring.Session{}, errors.New("gotd session: version " + strconv.Itoa(v.Version) + ", want 1")
	}
	return FromSessionData(v.Data)
}
