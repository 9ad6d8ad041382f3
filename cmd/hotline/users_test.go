package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestUsersAddAndList(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	run := func(stdin string, args ...string) (string, error) {
		var out, errOut bytes.Buffer
		c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut}
		err := runUsers(ctx, c, args)
		return out.String(), err
	}
	if _, err := run("editor-pass-1\n", "add", "--role", "editor,agent", "--name", "Olga P.", "--data", dir, "olga"); err != nil {
		t.Fatal(err)
	}
	if _, err := run("editor-pass-1\n", "add", "--role", "editor", "--data", dir, "olga"); err == nil {
		t.Error("duplicate user accepted")
	}
	if _, err := run("", "add", "--role", "editor", "--data", dir, "ivan"); err == nil {
		t.Error("empty password accepted")
	}
	if _, err := run("pw-long-enough\n", "add", "--data", dir, "ivan"); err == nil {
		t.Error("user without a role accepted")
	}
	if _, err := run("new-pass-22\n", "passwd", "--data", dir, "olga"); err != nil {
		t.Fatal(err)
	}
	out, err := run("", "list", "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "olga") || !strings.Contains(out, "agent,editor") || !strings.Contains(out, "Olga P.") || strings.Contains(out, "pass") {
		t.Errorf("list output:\n%s", out)
	}
	if _, err := run("", "frobnicate"); err == nil {
		t.Error("unknown subcommand accepted")
	}
}
