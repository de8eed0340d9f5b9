package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

func init() {
	register("operator add", "--login L --role admin|manager|cashier|support [--name N --email E --password P]: a password not given is generated and printed once", cmdOperatorAdd)
	register("operator passwd", "--login L [--password P]: set an operator's password and clear the lockout", cmdOperatorPasswd)
	register("operator list", "list back-office operators", cmdOperatorList)
}

// cli is the audit log's name for the command line.
var cli = operator.Actor{Login: "cli"}

func cmdOperatorAdd(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("operator add", flag.ContinueOnError)
	var n operator.NewOperator
	var role string
	fs.StringVar(&n.Login, "login", "", "operator login")
	fs.StringVar(&role, "role", "", "admin, manager, cashier or support")
	fs.StringVar(&n.Name, "name", "", "full name")
	fs.StringVar(&n.Email, "email", "", "e-mail")
	fs.StringVar(&n.Password, "password", "", "password (generated when empty)")
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if n.Login == "" {
		return errors.New("--login is required")
	}
	r, err := operator.ParseRole(role)
	if err != nil {
		return err
	}
	n.Role = r
	generated := n.Password == ""
	if generated {
		n.Password = subscriber.GeneratePassword(14)
	}
	if err := e.open(ctx); err != nil {
		return err
	}
	o, err := operator.New(e.db, e.clock).Add(ctx, cli, n)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "operator %s (%s) added\n", o.Login, o.Role)
	if generated {
		fmt.Fprintf(e.stdout, "password: %s\n(shown once: write it down)\n", n.Password)
	}
	return nil
}

func cmdOperatorPasswd(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("operator passwd", flag.ContinueOnError)
	login := fs.String("login", "", "operator login")
	pw := fs.String("password", "", "password (generated when empty)")
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if *login == "" {
		return errors.New("--login is required")
	}
	generated := *pw == ""
	if generated {
		*pw = subscriber.GeneratePassword(14)
	}
	if err := e.open(ctx); err != nil {
		return err
	}
	s := operator.New(e.db, e.clock)
	o, err := s.ByLogin(ctx, *login)
	if err != nil {
		return err
	}
	if _, err := s.Update(ctx, cli, o.ID, operator.Change{Password: pw, Unlock: true}); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "password of %s changed, lockout cleared\n", o.Login)
	if generated {
		fmt.Fprintf(e.stdout, "password: %s\n(shown once: write it down)\n", *pw)
	}
	return nil
}

func cmdOperatorList(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("operator list", flag.ContinueOnError)
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if err := e.open(ctx); err != nil {
		return err
	}
	list, err := operator.New(e.db, e.clock).List(ctx)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(list)
	}
	for _, o := range list {
		state := "active"
		if o.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(e.stdout, "%-20s %-8s %-8s %s\n", o.Login, o.Role, state, o.Name)
	}
	return nil
}
