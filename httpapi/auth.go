package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/communicator/communicator/telegramauth"
)

// Header names of the APIs.
const (
	HeaderAuthorization = "Authorization"
	HeaderServiceID     = "X-Service-ID"
	HeaderConnectingIP  = "CF-Connecting-IP"
	// AuthScheme is the scheme of the Authorization header: "ApiKey <key>".
	AuthScheme = "ApiKey"
	// MaxAPIKeyLen is the longest API key accepted.
	MaxAPIKeyLen = 1024
)

// CheckAPIKey says what is wrong with an API key to send, or "" if nothing:
// it must be 1 to MaxAPIKeyLen bytes of visible ASCII. It never quotes the key.
func CheckAPIKey(key string) string {
	switch {
	case key == "":
		return "is empty"
	case len(key) > MaxAPIKeyLen:
		return "is longer than " + strconv.Itoa(MaxAPIKeyLen) + " bytes (a secret, not shown)"
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c <= ' ' || c > '~' {
			return "has a character that is not visible ASCII, such as whitespace or a newline (a secret, not shown)"
		}
	}
	return ""
}

// InvalidServiceID is what logs and the access log say for an X-Service-ID
// that is not a well-formed service id: the raw header is never recorded.
const InvalidServiceID = "invalid"

// UnknownServiceID is what Authenticate reports as claimed for a
// well-formed X-Service-ID that has no key: anyone can make up ids, and a
// record per made-up id would let a flood grow whatever counts refusals.
const UnknownServiceID = "unknown"

// ClaimedServiceID is the request's X-Service-ID as logs may record it: the
// id if it is well-formed, InvalidServiceID if not, "" if absent.
func ClaimedServiceID(r *http.Request) string {
	ids := r.Header.Values(HeaderServiceID)
	switch {
	case len(ids) == 0 || ids[0] == "":
		return ""
	case len(ids) > 1 || !telegramauth.ValidServiceID(ids[0]):
		return InvalidServiceID
	}
	return ids[0]
}

// SetAPIKey sets the headers that present key as serviceID's:
// "Authorization: ApiKey <key>" and "X-Service-ID: <serviceID>", what
// Authenticate accepts.
func SetAPIKey(h http.Header, serviceID, key string) {
	h.Set(HeaderAuthorization, AuthScheme+" "+key)
	h.Set(HeaderServiceID, serviceID)
}

// Authenticate checks a request's "Authorization: ApiKey <key>" and
// "X-Service-ID: <id>" against keys, comparing in constant time. It returns the
// authenticated service id, or an UNAUTHENTICATED error that names what was
// wrong and never the key. claimed is who the request claimed to be, for
// logs and counts: a service id that has a key, UnknownServiceID for another
// well-formed id, InvalidServiceID for a malformed one, "" for none.
func Authenticate(r *http.Request, keys APIKeys) (serviceID, claimed string, err *telegramauth.Error) {
	id := ClaimedServiceID(r)
	claimed = id
	if id != "" && id != InvalidServiceID && !keys.Known(id) {
		claimed = UnknownServiceID
	}
	deny := func(msg string) (string, string, *telegramauth.Error) {
		return "", claimed, telegramauth.NewError(telegramauth.CodeUnauthenticated, msg)
	}
	auths := r.Header.Values(HeaderAuthorization)
	if len(auths) == 0 || auths[0] == "" {
		return deny(`missing Authorization header: expected "Authorization: ApiKey <key>"`)
	}
	key, ok := parseAuthorization(auths)
	if !ok {
		return deny(`malformed Authorization header: expected "Authorization: ApiKey <key>"`)
	}
	switch id {
	case "":
		return deny(`missing X-Service-ID header: expected "X-Service-ID: <service id>"`)
	case InvalidServiceID:
		return deny("malformed X-Service-ID header: expected one service id of " + telegramauth.ServiceIDRule)
	}
	if !keys.Verify(id, key) {
		return deny("invalid API key for this X-Service-ID")
	}
	return id, id, nil
}

func parseAuthorization(values []string) (string, bool) {
	if len(values) != 1 {
		return "", false
	}
	scheme, key, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, AuthScheme) {
		return "", false
	}
	key = strings.TrimLeft(key, " ")
	return key, CheckAPIKey(key) == ""
}

// ClientIP is the CF-Connecting-IP header if it holds an IP address, else the
// host of the remote address, else "". Cloudflare's edge sets CF-Connecting-IP;
// behind anything else (wrangler dev) it is whatever the client sent.
func ClientIP(r *http.Request) string {
	if v := r.Header.Get(HeaderConnectingIP); v != "" {
		if a, err := netip.ParseAddr(strings.TrimSpace(v)); err == nil {
			return a.String()
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.String()
	}
	return ""
}
