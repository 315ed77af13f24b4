package devstack

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/mtproto/sessionstring"
)

// DevOperator is the service that calls the ingestor's routes under make dev,
// with DevSecrets.OperatorKey; make dev lets it read and operate.
const DevOperator = "operator"

// DevSecrets are make dev's local secrets, generated once into
// DevSecretsPath so that sealed sessions survive restarts.
type DevSecrets struct {
	SessionSecret string `json:"sessionSecret"` // auth-telegram's SESSION_SECRET
	APIKey        string `json:"apiKey"`        // ingestor-service's key for auth-telegram's HTTP API
	OperatorKey   string `json:"operatorKey"`   // DevOperator's key for the ingestor's routes
}

// DevSecretsPath is where make dev keeps its secrets under the repository root.
func DevSecretsPath(root string) string {
	return filepath.Join(root, ".wrangler", "dev", "secrets.json")
}

// ReadDevSecrets reads the secrets make dev wrote to path.
func ReadDevSecrets(path string) (DevSecrets, error) {
	var s DevSecrets
	b, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%s: %v", path, err)
	}
	if s.SessionSecret == "" || s.APIKey == "" || s.OperatorKey == "" {
		return s, fmt.Errorf("%s is incomplete", path)
	}
	return s, nil
}

// LoadDevSecrets returns the secrets in path, first generating and writing
// them if the file is missing or incomplete.
func LoadDevSecrets(path string) (DevSecrets, error) {
	if s, err := ReadDevSecrets(path); err == nil {
		return s, nil
	}
	s := DevSecrets{SessionSecret: RandomHex(32), APIKey: "dev-" + RandomHex(16), OperatorKey: "dev-operator-" + RandomHex(16)}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return s, err
	}
	b, _ := json.MarshalIndent(s, "", "  ")
	return s, os.WriteFile(path, b, 0o600)
}

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
	httpapi.SetAPIKey(req.Header, "ingestor-service", apiKey)
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
