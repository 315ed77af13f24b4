// Command devport exits 1, saying which port is busy and how to choose
// another, when make dev's HTTP port is taken. `make dev` runs it before
// building anything: it compiles from the standard library alone.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/communicator/communicator/internal/devport"
)

func main() {
	port := flag.Int("port", 8787, "make dev's HTTP port")
	flag.Parse()
	if err := devport.Check(*port); err != nil {
		fmt.Fprintln(os.Stderr, "make dev:", err)
		os.Exit(1)
	}
}
