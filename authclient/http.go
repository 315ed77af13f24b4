package authclient

import (
	"net/http"

	"github.com/communicator/communicator/authhttp"
	"github.com/communicator/communicator/telegramauth"
)

// NewHTTPTransport is the HTTP transport for cfg: auth-telegram's HTTP API at
// cfg.Endpoint, authenticated with cfg.APIKey and cfg.ServiceID, sending with
// rt (workers.Network in a worker). The per-call timeout is the
// Client's, so the authhttp client gets none of its own.
func NewHTTPTransport(cfg ClientConfig, rt http.RoundTripper) (telegramauth.Service, error) {
	c, err := authhttp.NewClient(authhttp.ClientConfig{
		Endpoint:  cfg.Endpoint,
		APIKey:    cfg.APIKey,
		ServiceID: cfg.ServiceID,
		Transport: rt,
	})
	if err != nil {
		return nil, err // not a nil *authhttp.Client in a non-nil interface
	}
	return c, nil
}
