package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// figures are this run's headline ratios. The report keeps them in a
// comment, so that the next run can say how far apart two consecutive runs
// are.
var figures = map[string]float64{}

const figuresMark = "<!-- figures: "

type figuresRecord struct {
	At      string             `json:"at"`
	Figures map[string]float64 `json:"figures"`
}

// previousFigures reads the figures of the report at path, if there is one.
func previousFigures(path string) figuresRecord {
	var rec figuresRecord
	b, err := os.ReadFile(path)
	if err != nil {
		return rec
	}
	_, after, ok := strings.Cut(string(b), figuresMark)
	if !ok {
		return rec
	}
	j, _, _ := strings.Cut(after, " -->")
	json.Unmarshal([]byte(j), &rec)
	return rec
}

// consecutiveRuns compares this run's figures with the previous report's,
// and writes this run's for the next.
func consecutiveRuns(rep *strings.Builder, prev figuresRecord) {
	var keys []string
	for k := range figures {
		if _, ok := prev.Figures[k]; ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if len(keys) > 0 {
		fmt.Fprintf(rep, "## Two consecutive runs\n\nThe same ratios in the previous `make bench` (%s) and in this one: how far one run's figure can be trusted.\n\n| ratio | previous run | this run | apart |\n|---|---:|---:|---:|\n", prev.At)
		for _, k := range keys {
			a, b := prev.Figures[k], figures[k]
			fmt.Fprintf(rep, "| %s | %.2f | %.2f | %+.0f%% |\n", k, a, b, (b-a)/a*100)
		}
		rep.WriteString("\n")
	}
	j, _ := json.Marshal(figuresRecord{At: time.Now().UTC().Format("2006-01-02 15:04 MST"), Figures: figures})
	fmt.Fprintf(rep, "%s%s -->\n", figuresMark, j)
}
