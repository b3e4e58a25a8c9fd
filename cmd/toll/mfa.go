package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/skip2/go-qrcode"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/schemas"
)

// codeMFARequired is control's answer to a login without the one-time
// code its user's second factor asks for (control.CodeMFARequired).
const codeMFARequired = "mfa_required"

// mfaRequired reports whether err is control asking for a one-time code.
func mfaRequired(err error) bool {
	var e *client.APIError
	return errors.As(err, &e) && e.Code == codeMFARequired
}

// oneTimeCode is the code of flag, else one typed at the terminal.
func (a *app) oneTimeCode(flag, prompt string) (string, error) {
	if flag != "" {
		return strings.TrimSpace(flag), nil
	}
	f, ok := a.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", errors.New("a one-time code from your authenticator app is required: pass --otp=CODE")
	}
	fmt.Fprint(a.stderr, prompt)
	var code string
	if _, err := fmt.Fscanln(f, &code); err != nil {
		return "", fmt.Errorf("read the one-time code: %w", err)
	}
	return strings.TrimSpace(code), nil
}

func (a *app) mfaCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mfa",
		Short: "Manage your second factor (TOTP authenticator app)",
		Long: `Manage your second factor: a TOTP authenticator app (Google Authenticator, 1Password, Aegis…).
Once you have one, toll login asks for its code after your password; each code is good once, and
wrong codes count toward the login lockout like wrong passwords. A role with
options.require_mfa: login reaches nothing until you enrolled one. The secret stays in control's
keystore, sealed; the event log records only that you enrolled (user.mfa_added).`,
	}
	cmd.AddCommand(a.mfaAddCmd(), a.mfaConfirmCmd(), a.mfaLsCmd(), a.mfaRmCmd())
	return cmd
}

func (a *app) mfaAddCmd() *cobra.Command {
	var typ, code string
	cmd := &cobra.Command{
		Use:   "add --type=totp",
		Short: "Enroll an authenticator app: shows a QR code, then asks for its first code",
		Example: `  toll mfa add --type=totp
  toll mfa add --type=totp --otp=123456   # the code, once the app shows one (scripts: toll mfa confirm)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if typ != schemas.MFATOTP {
				return fmt.Errorf("--type=%q: the second factor Tollgate takes is totp", typ)
			}
			_, c, err := a.session()
			if err != nil {
				return err
			}
			defer c.Close()
			enr, err := c.MFABeginTOTP(cmd.Context())
			if err != nil {
				return err
			}
			if qr, err := qrcode.New(enr.URI, qrcode.Medium); err == nil {
				fmt.Fprintln(a.stdout, qr.ToSmallString(false))
			}
			fmt.Fprintf(a.stdout, "Scan the code above in your authenticator app, or add this key by hand:\n  %s\nURI: %s\n", enr.Secret, enr.URI)
			code, err := a.oneTimeCode(code, "Code your app shows now: ")
			if err != nil {
				fmt.Fprintln(a.stdout, "Then confirm with: toll mfa confirm CODE")
				return nil
			}
			return a.confirmTOTP(cmd.Context(), c, code)
		},
	}
	cmd.Flags().StringVar(&typ, "type", schemas.MFATOTP, "the second factor's type: totp")
	cmd.Flags().StringVar(&code, "otp", "", "the app's current code (else asked for at the terminal)")
	return cmd
}

func (a *app) confirmTOTP(ctx context.Context, c *client.Client, code string) error {
	if err := c.MFAConfirmTOTP(ctx, code); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "Second factor enrolled: toll login asks for a code from now on.")
	return nil
}

func (a *app) mfaConfirmCmd() *cobra.Command {
	return &cobra.Command{
		Use: "confirm CODE", Short: "Finish toll mfa add with the app's current code", Example: "  toll mfa confirm 123456",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, c, err := a.session()
			if err != nil {
				return err
			}
			defer c.Close()
			return a.confirmTOTP(cmd.Context(), c, args[0])
		},
	}
}

func (a *app) mfaLsCmd() *cobra.Command {
	return &cobra.Command{
		Use: "ls", Short: "Show your second factor", Example: "  toll mfa ls", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, c, err := a.session()
			if err != nil {
				return err
			}
			defer c.Close()
			who, err := c.Whoami(cmd.Context())
			if err != nil {
				return err
			}
			if who.MFA == "" {
				fmt.Fprintln(a.stdout, "No second factor (toll mfa add --type=totp).")
				return nil
			}
			fmt.Fprintf(a.stdout, "TYPE\n%s\n", who.MFA)
			return nil
		},
	}
}

func (a *app) mfaRmCmd() *cobra.Command {
	var code string
	cmd := &cobra.Command{
		Use: "rm", Short: "Remove your second factor (needs a current code; lost the device? ask an admin: tollctl users reset-mfa)",
		Example: "  toll mfa rm --otp=123456", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			code, err := a.oneTimeCode(code, "Code your app shows now: ")
			if err != nil {
				return err
			}
			_, c, err := a.session()
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.MFARemove(cmd.Context(), wire.MFARemove{Code: code}); err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, "Second factor removed.")
			return nil
		},
	}
	cmd.Flags().StringVar(&code, "otp", "", "the app's current code (else asked for at the terminal)")
	return cmd
}
