package devstack

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
)

// MaxUploadGzip is the project's bound on a worker's upload, gzipped: 5 MiB,
// half of what Cloudflare allows on paid plans.
const MaxUploadGzip = 5 << 20

// Upload is what wrangler would upload for a worker: the bundle (the entry
// modules and app.wasm) and the same gzipped, the size Cloudflare's limit on a
// worker applies to. Both in bytes.
type Upload struct{ Bytes, Gzip int64 }

var uploadLine = regexp.MustCompile(`Total Upload: ([0-9.]+) KiB / gzip: ([0-9.]+) KiB`)

// ParseUpload reads the "Total Upload: X KiB / gzip: Y KiB" line that
// `wrangler deploy` prints.
func ParseUpload(out string) (Upload, error) {
	m := uploadLine.FindStringSubmatch(out)
	if m == nil {
		return Upload{}, fmt.Errorf("wrangler printed no \"Total Upload: … KiB / gzip: … KiB\" line")
	}
	raw, err1 := strconv.ParseFloat(m[1], 64)
	gz, err2 := strconv.ParseFloat(m[2], 64)
	if err1 != nil || err2 != nil {
		return Upload{}, fmt.Errorf("wrangler's upload line %q has a size that is not a number", m[0])
	}
	return Upload{Bytes: int64(raw * 1024), Gzip: int64(gz * 1024)}, nil
}

// UploadOf asks the pinned wrangler what it would upload for the worker in
// dir (`wrangler deploy --dry-run`, of what make build left in its build/).
func UploadOf(root, dir string) (Upload, error) {
	out, err := DryRun(root, dir)
	if err != nil {
		return Upload{}, err
	}
	return ParseUpload(out)
}

// DryRun runs `wrangler deploy --dry-run` (with args, such as "--env",
// "production") for the worker in dir with the pinned wrangler, bundling into
// a temporary directory, and returns what it printed; an error if it failed.
func DryRun(root, dir string, args ...string) (string, error) {
	out, err := os.MkdirTemp("", "dry-run-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(out)
	cmd := exec.Command(filepath.Join(root, "node_modules", ".bin", "wrangler"), append([]string{"deploy", "--dry-run", "--outdir", out}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), "WRANGLER_SEND_METRICS=false", "CI=true", "NO_COLOR=1")
	text, err := cmd.CombinedOutput()
	if err != nil {
		return string(text), fmt.Errorf("wrangler deploy --dry-run in %s: %v\n%s", dir, err, text)
	}
	return string(text), nil
}
