package main

import (
	"context"
	"errors"
)

// runModels is being written (asr work in progress).
func runModels(ctx context.Context, c *cli, args []string) error {
	return errors.New("models: not implemented yet")
}
