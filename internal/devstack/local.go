package devstack

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/mtproto/sessionstring"
)

// RandomHex returns n random bytes in hex, for local secrets and keys.
func RandomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// AuthTelegramVars are auth-telegram's secrets for a local stack: the sealing
// secret and an API key for ingestor-service (stored, as in production, as its
// SHA-256).
func AuthTelegramVars(sessionSecret, apiKey string) map[string]string {
	return map[string]string{
		"SESSION_SECRET":   sessionSecret,
		"SERVICE_API_KEYS": fmt.Sprintf(`{"ingestor-service":%q}`, httpapi.HashAPIKey(apiKey)),
	}
}

// RandomSession returns a GramJS session string with a random auth key (a
// session Telegram never issued: enough for everything but talking to
// Telegram).
func RandomSession() string {
	var s sessionstring.Session
	s.DC, s.Addr, s.Port = 2, "149.154.167.50", 443
	rand.Read(s.AuthKey[:])
	return sessionstring.Encode(s)
}

// ImportSession imports a session for userID through auth-telegram's HTTP API
// at authURL as ingestor-service, and returns its id.
func ImportSession(authURL, apiKey string, userID int64, sessionString string) (string, error) {
	body, _ := json.Marshal(map[string]any{"userId": userID, "sessionString": sessionString})
	req, err := http.NewRequest("POST", authURL+"/api/telegram-auth/sessions/import", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "ApiKey "+apiKey)
	req.Header.Set("X-Service-ID", "ingestor-service")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var env struct {
		Data struct{ SessionID string }
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &env) != nil {
		return "", fmt.Errorf("import answered %d: %s", resp.StatusCode, b)
	}
	return env.Data.SessionID, nil
}
