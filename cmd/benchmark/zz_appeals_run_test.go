package main

import (
	"context"
	"os"
	"testing"
)

func TestRunBenchAppeals(t *testing.T) {
	if os.Getenv("RUN_APPEALS_BENCH") == "" {
		t.Skip()
	}
	if err := benchAppeals(context.Background(), os.Stdout); err != nil {
		t.Fatal(err)
	}
}
