package main

import (
	"context"
	"errors"
)

// runTranscribe is being written (asr work in progress).
func runTranscribe(ctx context.Context, c *cli, args []string) error {
	return errors.New("transcribe: not implemented yet")
}
