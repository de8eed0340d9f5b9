package operator

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// Command runs `kabinet operator …` against s: the way the first admin is
// made, and a way back in when every admin is locked out.
//
//	kabinet operator add --login L --role admin [--name N] [--email E] [--password P]
//	kabinet operator passwd --login L [--password P]   (also clears the lockout)
//	kabinet operator list
//
// A password that is not given is generated and printed once.
func Command(ctx context.Context, s *Store, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("operator: add, passwd or list")
	}
	fs := flag.NewFlagSet("operator "+args[0], flag.ContinueOnError)
	fs.SetOutput(stdout)
	login := fs.String("login", "", "operator login")
	role := fs.String("role", "", "admin, manager, cashier or support")
	name := fs.String("name", "", "full name")
	email := fs.String("email", "", "e-mail")
	password := fs.String("password", "", "password (generated when empty)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cli := Actor{Login: "cli"}
	pw := *password
	generated := pw == ""
	if generated {
		pw = subscriber.GeneratePassword(14)
	}
	switch args[0] {
	case "add":
		r, err := ParseRole(*role)
		if err != nil {
			return err
		}
		o, err := s.Add(ctx, cli, NewOperator{Login: *login, Name: *name, Email: *email, Role: r, Password: pw})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "operator %s (%s) added\n", o.Login, o.Role)
	case "passwd":
		o, err := s.ByLogin(ctx, *login)
		if err != nil {
			return err
		}
		if _, err := s.Update(ctx, cli, o.ID, Change{Password: &pw, Unlock: true}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s changed, lockout cleared\n", o.Login)
	case "list":
		list, err := s.List(ctx)
		if err != nil {
			return err
		}
		for _, o := range list {
			state := "active"
			if o.Disabled {
				state = "disabled"
			}
			fmt.Fprintf(stdout, "%-20s %-8s %-8s %s\n", o.Login, o.Role, state, o.Name)
		}
		return nil
	default:
		return fmt.Errorf("operator %s: unknown command (add, passwd, list)", args[0])
	}
	if generated {
		fmt.Fprintf(stdout, "password: %s\n(shown once: write it down)\n", pw)
	}
	return nil
}
