package main

import (
	"strings"
	"testing"
)

func TestCheckFlags(t *testing.T) {
	for _, ok := range []struct {
		only string
		kind int
	}{{"", -1}, {"bridge", -1}, {"services", 0}, {"services", 3}} {
		if err := checkFlags(ok.only, ok.kind); err != nil {
			t.Errorf("checkFlags(%q, %d): %v", ok.only, ok.kind, err)
		}
	}
	for _, bad := range []struct {
		only string
		kind int
		want string
	}{{"bridg", -1, `-only "bridg"`}, {"", 4, "-kind 4"}, {"services", -2, "-kind -2"}} {
		if err := checkFlags(bad.only, bad.kind); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("checkFlags(%q, %d) = %v, want an error naming %s", bad.only, bad.kind, err, bad.want)
		}
	}
}
