package main

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

// The names logged per RPC method must follow the generated entry class.
func TestRPCMethodNamesFollowTheEntry(t *testing.T) {
	b, err := os.ReadFile("entry/worker.mjs")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(\w+)\(\.\.\.args\) \{ return runtime\.call\((\d+),`).FindAllStringSubmatch(string(b), -1)
	if len(m) != len(rpcMethods) {
		t.Fatalf("entry has %d methods, rpcMethods %d", len(m), len(rpcMethods))
	}
	for _, g := range m {
		i, _ := strconv.Atoi(g[2])
		if rpcMethods[i] != g[1] {
			t.Errorf("method %d is %s in the entry, %s in rpcMethods", i, g[1], rpcMethods[i])
		}
	}
}
