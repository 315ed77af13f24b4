// Package sessionstring reads and writes Telegram "string sessions": an MTProto
// authorization key plus the data center it belongs to, packed into one line of
// text. It reads the two formats in use by JavaScript and Python clients and
// writes the GramJS one, which is the form auth-telegram hands out (see
// docs/ARCHITECTURE.md: sessions made by the TypeScript system and by this one
// are interchangeable).
//
// # Formats
//
// Both formats are the version character "1" followed by base64 of a packed
// record (all integers big-endian):
//
//	GramJS   (gramjs/sessions/StringSession.ts):
//	    dcId uint8 | addrLen int16 | addr (addrLen bytes of text) | port int16 | authKey (256 bytes)
//	    standard base64 alphabet, padded.
//	Telethon (telethon/sessions/string.py, struct ">B{4|16}sH256s"):
//	    dcId uint8 | ip (4 raw bytes for IPv4, 16 for IPv6) | port uint16 | authKey (256 bytes)
//	    URL-safe base64 alphabet, padded.
//
// # Detection
//
// GramJS's own loader guesses the format from lengths (a body of exactly 352
// characters is Telethon IPv4, an address length above 100 is Telethon IPv6).
// Parse instead checks structure: a record is GramJS when its address length
// field (1..100) accounts for exactly the record's size and the address text is
// a valid IP address or host name; otherwise it is Telethon when the record is
// exactly 263 (IPv4) or 275 (IPv6) bytes. The two readings cannot both succeed:
// a GramJS record of Telethon's size starts with the bytes 0x00 0x02 or
// 0x00 0x0e, which as a Telethon address fall in 0.0.0.0/8 or ::/8, ranges
// Parse rejects for every address (no data center is there).
//
// # What Parse accepts
//
//   - Surrounding ASCII white space is ignored (pasted text); inner white space is not.
//   - Either base64 alphabet (standard "+/" or URL-safe "-_"), but not both in one
//     string: no encoder produces a mix, so a mix means the text was damaged.
//   - With or without "=" padding; padding, if present, must be correct. Node's
//     Buffer (which GramJS uses) is as lenient about alphabets and padding.
//   - GramJS addresses are IPv4 or IPv6 literals (IPv6 optionally in brackets, as
//     old GramJS versions wrote them) or DNS host names (GramJS running in a
//     browser or a worker stores host names such as "venus.web.telegram.org").
//     The address is kept in canonical text: netip's form for IPs, lower case for
//     host names.
//
// Errors describe what is malformed and never contain the input, the key, or
// any base64 of them, so they are safe to log and to return to a caller.
package sessionstring

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Version is the first character of every string session this package knows.
const Version = "1"

// KeySize is the size of an MTProto authorization key.
const KeySize = 256

// MaxAddrLen is the longest address text in the GramJS form. GramJS's own
// loader reads an address length above 100 as the start of a Telethon IPv6
// record, so a longer address could not be read back by GramJS.
const MaxAddrLen = 100

// Record sizes of the Telethon form.
const (
	telethonIPv4Size = 1 + 4 + 2 + KeySize  // 263
	telethonIPv6Size = 1 + 16 + 2 + KeySize // 275
	gramJSFixedSize  = 1 + 2 + 2 + KeySize  // 261 plus the address text
)

// Format is the format a session string was read from.
type Format int

// The formats Parse reads.
const (
	FormatGramJS Format = iota + 1
	FormatTelethon
)

func (f Format) String() string {
	switch f {
	case FormatGramJS:
		return "GramJS"
	case FormatTelethon:
		return "Telethon"
	default:
		return "Format(" + strconv.Itoa(int(f)) + ")"
	}
}

// Session is a decoded string session.
//
// Addr is text rather than a netip.Addr because GramJS sessions may carry a host
// name (GramJS outside Node stores web host names such as
// "venus.web.telegram.org"), and sessions written by the TypeScript system must
// keep working. Addr holds either a canonical IP literal (IPv6 without brackets)
// or a lower-case host name; see IP to tell them apart.
//
// Session's String and Format methods never print the key, so a Session can be
// passed to a logger or fmt by mistake without leaking it.
type Session struct {
	DC      int    // data center id, 1..255 (the formats store one byte)
	Addr    string // IP literal or host name of the data center
	Port    int    // TCP port, 1..65535
	AuthKey [KeySize]byte
}

// AuthKeyID returns the MTProto auth_key_id of the key: the last 8 bytes of
// SHA-1(key), i.e. bytes 12..19, in the order they are sent on the wire (read
// as a little-endian uint64 they are the int64 that MTProto and gotd use).
func (s Session) AuthKeyID() [8]byte {
	sum := sha1.Sum(s.AuthKey[:])
	var id [8]byte
	copy(id[:], sum[12:20])
	return id
}

// IP returns the address as an IP, and false if Addr is a host name (or invalid).
func (s Session) IP() (netip.Addr, bool) {
	a, err := netip.ParseAddr(s.Addr)
	if err != nil {
		return netip.Addr{}, false
	}
	return a, true
}

// HostPort returns "addr:port", with IPv6 addresses in brackets, for dialing.
func (s Session) HostPort() string {
	if strings.Contains(s.Addr, ":") {
		return "[" + s.Addr + "]:" + strconv.Itoa(s.Port)
	}
	return s.Addr + ":" + strconv.Itoa(s.Port)
}

// String describes the session without its key (it shows the auth key id,
// which MTProto sends in clear text with every message).
func (s Session) String() string {
	id := s.AuthKeyID()
	return fmt.Sprintf("sessionstring.Session{DC: %d, Addr: %q, Port: %d, AuthKey: <redacted, id %x>}", s.DC, s.Addr, s.Port, id[:])
}

// GoString is String, so %#v does not print the key either.
func (s Session) GoString() string { return s.String() }

// Format prints String for every verb, so no verb (%d, %x, %+v...) prints the key.
func (s Session) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// Validate reports the first field of s that no string session can carry, or
// an address not in canonical form. Parse(Encode(s)) returns s unchanged
// exactly when Validate returns nil.
func (s Session) Validate() error {
	if s.DC < 1 || s.DC > 255 {
		return errorf("dc id %d out of range 1..255", s.DC)
	}
	if s.Port < 1 || s.Port > 65535 {
		return errorf("port %d out of range 1..65535", s.Port)
	}
	canon, err := canonicalAddr(s.Addr)
	if err != nil {
		return err
	}
	if canon != s.Addr {
		return errorf("address is not in canonical form")
	}
	if s.AuthKey == ([KeySize]byte{}) {
		return errorf("auth key is all zeros")
	}
	return nil
}

// Error is the error Parse and Validate return. Its text never contains the
// session string, the key, or base64 of either.
type Error struct{ msg string }

func (e *Error) Error() string { return "session string: " + e.msg }

func errorf(format string, args ...any) error { return &Error{msg: fmt.Sprintf(format, args...)} }

// ErrEmpty is returned for an empty (or all white space) string.
var ErrEmpty error = &Error{msg: "empty"}

// Parse decodes a GramJS or Telethon string session and reports which format it
// was. The returned Session satisfies Validate.
func Parse(s string) (Session, Format, error) {
	s = strings.Trim(s, " \t\r\n\v\f")
	if s == "" {
		return Session{}, 0, ErrEmpty
	}
	if !strings.HasPrefix(s, Version) {
		return Session{}, 0, errorf("version prefix must be %q", Version)
	}
	raw, err := decodeBase64(s[len(Version):])
	if err != nil {
		return Session{}, 0, err
	}
	defer clear(raw) // it holds the key
	if len(raw) < 1 {
		return Session{}, 0, errorf("no data after the version prefix")
	}

	// GramJS: the address length field must account for exactly the record's size.
	var gramErr error
	if len(raw) >= 3 {
		addrLen := int(binary.BigEndian.Uint16(raw[1:3]))
		switch {
		case addrLen == 0 && len(raw) == gramJSFixedSize:
			gramErr = errorf("address is empty")
		case addrLen == 0 || addrLen > MaxAddrLen:
			// Not a GramJS record (GramJS itself reads a length above 100 as
			// Telethon IPv6); a Telethon IPv6 record starts this way.
		case gramJSFixedSize+addrLen == len(raw):
			sess, err := parseGramJS(raw, addrLen)
			if err == nil {
				return sess, FormatGramJS, nil
			}
			gramErr = err
		case len(raw) >= 3+addrLen+2:
			gramErr = errorf("auth key is %d bytes, want %d", len(raw)-(3+addrLen+2), KeySize)
		default:
			gramErr = errorf("data ends inside the address or port (decoded %d bytes, address length %d)", len(raw), addrLen)
		}
	}
	if len(raw) == telethonIPv4Size || len(raw) == telethonIPv6Size {
		sess, format, err := parseTelethon(raw)
		if err == nil {
			return sess, format, nil
		}
		if gramErr == nil {
			return Session{}, 0, err
		}
	}
	if gramErr != nil {
		return Session{}, 0, gramErr
	}
	return Session{}, 0, errorf("decoded data is %d bytes: a GramJS session is %d bytes plus the address, a Telethon session %d (IPv4) or %d (IPv6)",
		len(raw), gramJSFixedSize, telethonIPv4Size, telethonIPv6Size)
}

func parseGramJS(raw []byte, addrLen int) (Session, error) {
	var sess Session
	sess.DC = int(raw[0])
	addr, err := canonicalAddr(string(raw[3 : 3+addrLen]))
	if err != nil {
		return Session{}, err
	}
	sess.Addr = addr
	p := 3 + addrLen
	// GramJS writes the port with writeInt16BE; read the bits as unsigned (as
	// Telethon does) so that no port has a negative value.
	sess.Port = int(binary.BigEndian.Uint16(raw[p : p+2]))
	copy(sess.AuthKey[:], raw[p+2:])
	if err := checkFields(sess); err != nil {
		return Session{}, err
	}
	return sess, nil
}

func parseTelethon(raw []byte) (Session, Format, error) {
	var sess Session
	sess.DC = int(raw[0])
	ipLen := 4
	if len(raw) == telethonIPv6Size {
		ipLen = 16
	}
	ip, _ := netip.AddrFromSlice(raw[1 : 1+ipLen])
	if err := checkIP(ip); err != nil {
		return Session{}, 0, err
	}
	sess.Addr = ip.String()
	sess.Port = int(binary.BigEndian.Uint16(raw[1+ipLen : 3+ipLen]))
	copy(sess.AuthKey[:], raw[3+ipLen:])
	if err := checkFields(sess); err != nil {
		return Session{}, 0, err
	}
	return sess, FormatTelethon, nil
}

// checkFields validates what the formats can represent but Telegram cannot use.
func checkFields(s Session) error {
	if s.DC < 1 || s.DC > 255 {
		return errorf("dc id %d out of range 1..255", s.DC)
	}
	if s.Port < 1 || s.Port > 65535 {
		return errorf("port %d out of range 1..65535", s.Port)
	}
	if s.AuthKey == ([KeySize]byte{}) {
		return errorf("auth key is all zeros")
	}
	return nil
}

// canonicalAddr validates GramJS address text and returns its canonical form.
// Error messages describe the address only by length: it is part of the input.
func canonicalAddr(a string) (string, error) {
	if a == "" {
		return "", errorf("address is empty")
	}
	if len(a) > MaxAddrLen {
		return "", errorf("address is %d bytes, longer than %d", len(a), MaxAddrLen)
	}
	if strings.HasPrefix(a, "[") || strings.HasSuffix(a, "]") {
		inner, ok := strings.CutPrefix(a, "[")
		inner, ok2 := strings.CutSuffix(inner, "]")
		ip, err := netip.ParseAddr(inner)
		if !ok || !ok2 || err != nil || !ip.Is6() || ip.Zone() != "" {
			return "", errorf("bracketed address is not an IPv6 address")
		}
		return canonicalIP(ip)
	}
	if strings.ContainsRune(a, ':') {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			return "", errorf("address contains ':' but is not an IPv6 address")
		}
		if ip.Zone() != "" {
			return "", errorf("IPv6 address has a zone, which a data center address cannot have")
		}
		return canonicalIP(ip)
	}
	if ip, err := netip.ParseAddr(a); err == nil {
		return canonicalIP(ip)
	}
	return canonicalHost(a)
}

func canonicalIP(ip netip.Addr) (string, error) {
	if err := checkIP(ip); err != nil {
		return "", err
	}
	return ip.String(), nil
}

// checkIP rejects the "this network" ranges 0.0.0.0/8 and ::/8 (which hold the
// unspecified addresses), allowing only ::1 and IPv4-mapped addresses in ::/8.
// No data center is there, and the rule makes the two formats disjoint: a
// GramJS record of Telethon's size starts with 0x00 0x02 or 0x00 0x0e, which
// read as a Telethon address fall in exactly these ranges.
func checkIP(ip netip.Addr) error {
	if ip.Is4In6() {
		ip = ip.Unmap()
	} else if ip == netip.IPv6Loopback() {
		return nil
	}
	if ip.AsSlice()[0] == 0 {
		return errorf("address is in 0.0.0.0/8 or ::/8, where no data center is")
	}
	return nil
}

// canonicalHost accepts a DNS host name (RFC 1123 labels) and lower-cases it.
func canonicalHost(a string) (string, error) {
	h := strings.ToLower(strings.TrimSuffix(a, "."))
	if h == "" {
		return "", errorf("address is not an IP address or host name")
	}
	labels := strings.Split(h, ".")
	for i, l := range labels {
		if l == "" || len(l) > 63 {
			return "", errorf("address is not an IP address or host name (label %d is empty or longer than 63 bytes)", i+1)
		}
		for j := 0; j < len(l); j++ {
			c := l[j]
			ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && j > 0 && j < len(l)-1
			if !ok {
				return "", errorf("address is not an IP address or host name (bad byte at offset %d of label %d)", j, i+1)
			}
		}
	}
	// A name whose last label is all digits looks like a malformed IPv4 address
	// (e.g. "149.154.167"); RFC 1123 top-level labels are not numeric.
	last := labels[len(labels)-1]
	if strings.Trim(last, "0123456789") == "" {
		return "", errorf("address is neither a valid IPv4 address nor a host name")
	}
	return h, nil
}

// decodeBase64 decodes either alphabet, padded or not, and reports problems by
// offset only.
func decodeBase64(body string) ([]byte, error) {
	if body == "" {
		return nil, errorf("no data after the version prefix")
	}
	data := strings.TrimRight(body, "=")
	pad := len(body) - len(data)
	var std, url bool
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '+' || c == '/':
			std = true
		case c == '-' || c == '_':
			url = true
		case c == '=':
			return nil, errorf("base64 padding '=' inside the data at offset %d", len(Version)+i)
		default:
			return nil, errorf("invalid base64 character at offset %d", len(Version)+i)
		}
	}
	if std && url {
		return nil, errorf("base64 mixes the standard (+/) and URL-safe (-_) alphabets")
	}
	if len(data)%4 == 1 {
		return nil, errorf("base64 data has an impossible length (%d characters)", len(data))
	}
	if pad > 0 && (len(data)+pad)%4 != 0 {
		return nil, errorf("base64 padding is wrong (%d '=' after %d characters)", pad, len(data))
	}
	enc := base64.RawStdEncoding
	if url {
		enc = base64.RawURLEncoding
	}
	raw, err := enc.DecodeString(data)
	if err != nil {
		// Unreachable after the checks above; keep the message free of input.
		return nil, errorf("base64 data does not decode")
	}
	return raw, nil
}

// Encode writes s in the canonical GramJS form: "1" + standard padded base64 of
// dcId | addrLen | addr | port | authKey. It does not validate s; call Validate
// first when s was not produced by Parse.
//
// The port is written as the 16 bits of an unsigned value. GramJS reads it with
// readInt16BE, so a port above 32767 would come back negative in GramJS; no
// Telegram data center uses such a port, and Go readers (Parse) read it correctly.
func Encode(s Session) string {
	buf := make([]byte, 0, gramJSFixedSize+len(s.Addr))
	buf = append(buf, byte(s.DC))
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(s.Addr)))
	buf = append(buf, s.Addr...)
	buf = binary.BigEndian.AppendUint16(buf, uint16(s.Port))
	buf = append(buf, s.AuthKey[:]...)
	out := Version + base64.StdEncoding.EncodeToString(buf)
	clear(buf)
	return out
}

// EncodeTelethon writes s in the Telethon form (URL-safe padded base64, raw IP).
// It fails when Addr is a host name, which the Telethon form cannot carry.
func EncodeTelethon(s Session) (string, error) {
	if err := s.Validate(); err != nil {
		return "", err
	}
	ip, ok := s.IP()
	if !ok {
		return "", errors.New("session string: a Telethon session needs an IP address, not a host name")
	}
	buf := make([]byte, 0, telethonIPv6Size)
	buf = append(buf, byte(s.DC))
	buf = append(buf, ip.AsSlice()...)
	buf = binary.BigEndian.AppendUint16(buf, uint16(s.Port))
	buf = append(buf, s.AuthKey[:]...)
	out := Version + base64.URLEncoding.EncodeToString(buf)
	clear(buf)
	return out, nil
}
