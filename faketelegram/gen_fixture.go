//go:build ignore

// gen_fixture writes fixture.json.gz from internal/genfixture. Run it with
// `go generate ./faketelegram`.
package main

import (
	"bytes"
	"compress/gzip"
	"log"
	"os"

	"github.com/communicator/communicator/faketelegram/internal/genfixture"
)

func main() {
	data, err := genfixture.JSON()
	if err != nil {
		log.Fatal(err)
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		log.Fatal(err)
	}
	zw.Name = "fixture.json"
	if _, err := zw.Write(data); err != nil {
		log.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("fixture.json.gz", buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
