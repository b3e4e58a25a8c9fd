package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/wire"
)

const connectorExample = `  cat > oidc.yaml <<'YAML'
  kind: oidc
  version: v3
  metadata:
    name: corp
  spec:
    issuer_url: https://idp.example.com
    client_id: tollgate
    client_secret: "…"            # leave out for a public client (PKCE only)
    scopes: [email, groups]
    username_claim: email         # the user's Tollgate name (default email)
    claims_to_roles:
      - {claim: groups, value: dba, roles: [access, requester]}
      - {claim: groups, value: sre, roles: [access]}
    traits:
      db_users: ["{{email.local}}"]
      db_names: ["*"]
  YAML
  tollctl sso create -f oidc.yaml`

func (a *app) ssoCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "sso", Short: "Manage single sign-on (OpenID Connect) connectors people log in with (toll login --auth=oidc)",
		Long: "A connector is an OpenID Provider (Okta, Entra ID, Google, Keycloak, Dex…) and how its claims map to Tollgate.\n" +
			"Register Tollgate at the provider as a native/public client (or a confidential one, with its secret) whose\n" +
			"redirect URI is http://127.0.0.1/callback on any port (RFC 8252 loopback): toll listens there during a login.\n" +
			"Users are created at their first login and their roles and traits recomputed at each, from claims_to_roles\n" +
			"and traits; a login whose claims map to no role is refused. The client secret stays in control's keystore."}
	cmd.AddCommand(a.ssoWriteCmd("create", false), a.ssoWriteCmd("update", true), a.ssoLsCmd(), a.ssoShowCmd(), a.ssoRmCmd())
	return cmd
}

func (a *app) ssoWriteCmd(verb string, update bool) *cobra.Command {
	var file string
	short, example := "Create a connector from a YAML file (control checks the provider's discovery document)", connectorExample
	if update {
		short, example = "Replace a connector from a YAML file (without client_secret, the stored secret is kept)", "  tollctl sso update -f oidc.yaml"
	}
	c := &cobra.Command{
		Use: verb + " -f FILE", Short: short, Example: example, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return fmt.Errorf("-f FILE is required (a connector in YAML: kind: oidc, metadata.name, spec.issuer_url…)")
			}
			raw, err := readFileOrStdin(a, file)
			if err != nil {
				return fmt.Errorf("read connector file: %w", err)
			}
			conn, err := parseConnector(file, raw)
			if err != nil {
				return err
			}
			return a.call(func(c *client.Client) error {
				var out wire.SSOConnectorView
				if update {
					out, err = c.SSOUpdate(cmd.Context(), conn)
				} else {
					out, err = c.SSOCreate(cmd.Context(), conn)
				}
				if err != nil {
					return err
				}
				return a.print(out, func(w io.Writer) {
					fmt.Fprintf(w, "Connector %s %sd (issuer %s).\nUsers log in with: toll login --proxy=HOST:PORT --auth=oidc --connector=%s\n",
						out.Name, verb, out.IssuerURL, out.Name)
				})
			})
		},
	}
	c.Flags().StringVarP(&file, "file", "f", "", "connector YAML file (- for stdin)")
	return c
}

func readFileOrStdin(a *app, path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(a.stdin)
	}
	return os.ReadFile(path)
}

func (a *app) ssoLsCmd() *cobra.Command {
	return &cobra.Command{
		Use: "ls", Short: "List connectors", Example: "  tollctl sso ls", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.call(func(c *client.Client) error {
				cs, err := c.SSOList(cmd.Context())
				if err != nil {
					return err
				}
				return a.print(cs, func(w io.Writer) {
					if len(cs) == 0 {
						fmt.Fprintln(w, "No connectors. Create one with tollctl sso create -f oidc.yaml.")
						return
					}
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "Connector\tKind\tIssuer\tClient\tClaims to roles")
					for _, x := range cs {
						var m []string
						for _, cr := range x.ClaimsToRoles {
							m = append(m, cr.Claim+"="+cr.Value+"→"+strings.Join(cr.Roles, "|"))
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", x.Name, x.Kind, x.IssuerURL, x.ClientID, strings.Join(m, ", "))
					}
					tw.Flush()
				})
			})
		},
	}
}

func (a *app) ssoShowCmd() *cobra.Command {
	return &cobra.Command{
		Use: "show NAME", Short: "Show a connector (never its secret)", Example: "  tollctl sso show corp", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.call(func(c *client.Client) error {
				x, err := c.SSOGet(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if a.g.format == formatText {
					return writeYAML(a.stdout, x)
				}
				return a.print(x, nil)
			})
		},
	}
}

func (a *app) ssoRmCmd() *cobra.Command {
	return &cobra.Command{
		Use: "rm NAME", Short: "Delete a connector and its secret (its users stay; tollctl users rm removes them)",
		Example: "  tollctl sso rm corp", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.call(func(c *client.Client) error {
				if err := c.SSORm(cmd.Context(), args[0]); err != nil {
					return err
				}
				return a.print(map[string]string{"deleted": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "Connector %s deleted.\n", args[0]) })
			})
		},
	}
}
