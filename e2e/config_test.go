package e2e

import (
	"strings"
	"testing"

	"github.com/communicator/communicator/internal/devstack"
)

// TestWranglerConfigsDeploy asks wrangler to bundle each worker for each
// environment without deploying (`wrangler deploy --dry-run`): the configs are
// valid, nothing is left to inheritance that environments do not inherit, and
// each environment's ingestor binds the IngestorEntrypoint of the auth-telegram
// of the same environment, and that environment's queue and message database.
// Each upload, gzipped, stays within the project's 5 MiB.
func TestWranglerConfigsDeploy(t *testing.T) {
	for _, worker := range []string{"auth-telegram", "ingestor"} {
		for _, env := range []string{"staging", "production"} {
			text, err := devstack.DryRun(root, path("services", worker), "--env", env)
			if err != nil { // its output is in err
				t.Errorf("%s --env %s: %v", worker, env, err)
				continue
			}
			if strings.Contains(text, "WARNING") || strings.Contains(text, "ERROR") || !strings.Contains(text, "--dry-run: exiting now.") {
				t.Errorf("%s --env %s:\n%s", worker, env, text)
				continue
			}
			if !strings.Contains(text, "env.DB ("+worker+"-"+env+")") {
				t.Errorf("%s --env %s: D1 is not the environment's database:\n%s", worker, env, text)
			}
			if worker == "ingestor" && !strings.Contains(text, "env.TELEGRAM_AUTH (auth-telegram-"+env+"#IngestorEntrypoint)") {
				t.Errorf("ingestor --env %s: the binding does not target auth-telegram-%s#IngestorEntrypoint:\n%s", env, env, text)
			}
			if worker == "ingestor" && (!strings.Contains(text, "env.SYNC_QUEUE (telegram-sync-"+env+")") ||
				!strings.Contains(text, "env.MESSAGES_0 (ingestor-messages-0-"+env+")")) {
				t.Errorf("ingestor --env %s: SYNC_QUEUE or MESSAGES_0 is not the environment's:\n%s", env, text)
			}
			if u, err := devstack.ParseUpload(text); err != nil {
				t.Errorf("%s --env %s: %v", worker, env, err)
			} else if u.Gzip > devstack.MaxUploadGzip {
				// An http.Client anywhere in a worker links net/http's own
				// Transport and crypto/tls, 0.85 MiB gzipped (workers.Transport).
				t.Errorf("%s --env %s: the upload is %.2f MiB gzipped, over %d MiB", worker, env, float64(u.Gzip)/(1<<20), devstack.MaxUploadGzip>>20)
			}
		}
	}
}
