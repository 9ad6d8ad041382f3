package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/hotline-ivr/hotline/auth"
	"github.com/hotline-ivr/hotline/store"
)

const usersSynopsis = `add --role ROLE [--role ROLE] [--name "DISPLAY NAME"] [--data DIR] [--config FILE] USERNAME
       hotline users passwd [--data DIR] [--config FILE] USERNAME
       hotline users list [--data DIR] [--config FILE]

The password of add and passwd is read from standard input (one line).
Roles: admin, editor, agent, supervisor.`

// runUsers manages accounts directly in the database, for the first editor
// and for when nobody who can log in remembers the admin password.
func runUsers(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(c.stderr, "usage: hotline users "+usersSynopsis)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return fmt.Errorf("%w: users needs a subcommand: add, passwd or list", errUsage)
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet(c, "users "+sub, usersSynopsis)
	configPath := fs.String("config", "", "YAML config file (embedded defaults when empty)")
	dataDir := fs.String("data", "", "data directory, overrides data_dir")
	var roles roleList
	display := ""
	if sub == "add" {
		fs.Var(&roles, "role", "role to grant (repeat or separate with commas)")
		fs.StringVar(&display, "name", "", "display name")
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var username string
	switch {
	case sub == "list" && fs.NArg() == 0:
	case (sub == "add" || sub == "passwd") && fs.NArg() == 1:
		username = fs.Arg(0)
	case sub == "add" || sub == "passwd" || sub == "list":
		fs.Usage()
		return fmt.Errorf("%w: wrong number of arguments", errUsage)
	default:
		return fmt.Errorf("%w: unknown users subcommand %q (add, passwd, list)", errUsage, sub)
	}

	cfg, err := loadConfig(c, *configPath)
	if err != nil {
		return err
	}
	override(&cfg.DataDir, *dataDir)
	db, err := store.Open(cfg.Path("hotline.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	au, err := auth.Open(ctx, db)
	if err != nil {
		return err
	}

	switch sub {
	case "list":
		users, err := au.Users(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tNAME\tROLES\tSTATE\tCREATED")
		for _, u := range users {
			state := "active"
			if u.Disabled {
				state = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s by %s\n", u.Username, u.DisplayName, strings.Join(u.Roles, ","),
				state, u.CreatedAt.Format("2006-01-02 15:04"), u.CreatedBy)
		}
		return tw.Flush()
	case "add":
		if len(roles) == 0 {
			return fmt.Errorf("%w: give at least one --role", errUsage)
		}
		password, err := readPassword(c)
		if err != nil {
			return err
		}
		u, err := au.CreateUser(ctx, auth.NewUser{Username: username, DisplayName: display, Password: password, Roles: roles}, "cli")
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "created user %s with roles %s\n", u.Username, strings.Join(u.Roles, ","))
	case "passwd":
		password, err := readPassword(c)
		if err != nil {
			return err
		}
		if _, err := au.UpdateUser(ctx, username, auth.UserUpdate{Password: &password}, "cli"); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "password of %s changed; its sessions were ended\n", username)
	}
	return nil
}

// readPassword reads one line from stdin. It does not turn off the echo:
// the usual use is a pipe from a password manager or a script.
func readPassword(c *cli) (string, error) {
	line, err := bufio.NewReader(c.stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		return "", errors.New("empty password on standard input")
	}
	return password, nil
}

// roleList is a repeatable, comma-separated --role flag.
type roleList []string

func (r *roleList) String() string { return strings.Join(*r, ",") }

func (r *roleList) Set(v string) error {
	for _, role := range strings.Split(v, ",") {
		if role = strings.TrimSpace(role); role != "" {
			*r = append(*r, role)
		}
	}
	return nil
}
