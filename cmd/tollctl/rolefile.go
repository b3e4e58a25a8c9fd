package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tollgate-db/tollgate/schemas"
)

// fileError is a bad resource file: the field path and line.
type fileError struct {
	file  string
	line  int
	path  string
	issue string
}

func (e *fileError) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", e.file, e.line, e.path, e.issue)
}

type walker struct{ file string }

func (w walker) fail(n *yaml.Node, path, format string, args ...any) error {
	return &fileError{file: w.file, line: n.Line, path: path, issue: fmt.Sprintf(format, args...)}
}

// fields walks a mapping node, calling fn per key; unknown keys fail.
func (w walker) fields(n *yaml.Node, path string, known map[string]func(v *yaml.Node, path string) error) error {
	if n.Kind != yaml.MappingNode {
		return w.fail(n, path, "expected a mapping")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := k.Value
		if path != "" {
			p = path + "." + k.Value
		}
		fn, ok := known[k.Value]
		if !ok {
			return w.fail(k, p, "unknown field")
		}
		if err := fn(v, p); err != nil {
			return err
		}
	}
	return nil
}

func (w walker) str(dst *string) func(*yaml.Node, string) error {
	return func(n *yaml.Node, path string) error {
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			return w.fail(n, path, "expected a string")
		}
		*dst = n.Value
		return nil
	}
}

// strs accepts a string or a list of strings.
func (w walker) strs(dst *[]string) func(*yaml.Node, string) error {
	return func(n *yaml.Node, path string) error {
		switch n.Kind {
		case yaml.ScalarNode:
			*dst = []string{n.Value}
			return nil
		case yaml.SequenceNode:
			out := []string{}
			for i, c := range n.Content {
				if c.Kind != yaml.ScalarNode {
					return w.fail(c, fmt.Sprintf("%s[%d]", path, i), "expected a string")
				}
				out = append(out, c.Value)
			}
			*dst = out
			return nil
		}
		return w.fail(n, path, "expected a string or a list of strings")
	}
}

func (w walker) labels(dst *map[string][]string) func(*yaml.Node, string) error {
	return func(n *yaml.Node, path string) error {
		if n.Kind != yaml.MappingNode {
			return w.fail(n, path, "expected a mapping of label to value(s)")
		}
		m := map[string][]string{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			var vals []string
			if err := w.strs(&vals)(v, path+"."+k.Value); err != nil {
				return err
			}
			m[k.Value] = vals
		}
		*dst = m
		return nil
	}
}

func (w walker) conditions(dst *schemas.RoleConditions) func(*yaml.Node, string) error {
	return func(n *yaml.Node, path string) error {
		return w.fields(n, path, map[string]func(*yaml.Node, string) error{
			"db_labels":       w.labels(&dst.DBLabels),
			"db_users":        w.strs(&dst.DBUsers),
			"db_names":        w.strs(&dst.DBNames),
			"request":         w.request(&dst.Request),
			"review_requests": w.reviewRequests(&dst.ReviewRequests),
			"db_statements":   w.statementRules(&dst.DBStatements),
			"rules": func(n *yaml.Node, path string) error {
				if n.Kind != yaml.SequenceNode {
					return w.fail(n, path, "expected a list of rules")
				}
				for i, c := range n.Content {
					var r schemas.Rule
					p := fmt.Sprintf("%s[%d]", path, i)
					if err := w.fields(c, p, map[string]func(*yaml.Node, string) error{
						"resources": w.strs(&r.Resources), "verbs": w.strs(&r.Verbs),
					}); err != nil {
						return err
					}
					if len(r.Resources) == 0 || len(r.Verbs) == 0 {
						return w.fail(c, p, "a rule needs resources and verbs")
					}
					dst.Rules = append(dst.Rules, r)
				}
				return nil
			},
		})
	}
}

// request reads allow.request (or deny.request): roles, max_duration,
// thresholds.
func (w walker) request(dst **schemas.RequestConditions) func(*yaml.Node, string) error {
	return func(n *yaml.Node, path string) error {
		rq := &schemas.RequestConditions{}
		*dst = rq
		return w.fields(n, path, map[string]func(*yaml.Node, string) error{
			"roles": w.strs(&rq.Roles),
			"max_duration": func(n *yaml.Node, path string) error {
				if err := w.str(&rq.MaxDuration)(n, path); err != nil {
					return err
				}
				if d, err := time.ParseDuration(rq.MaxDuration); err != nil || d <= 0 {
					return w.fail(n, path, "%q is not a positive duration like 8h", rq.MaxDuration)
				}
				return nil
			},
			"thresholds": func(n *yaml.Node, path string) error {
				if n.Kind != yaml.SequenceNode {
					return w.fail(n, path, "expected a list like [{approve: 2, deny: 1}]")
				}
				for i, c := range n.Content {
					var t schemas.Threshold
					if err := w.fields(c, fmt.Sprintf("%s[%d]", path, i), map[string]func(*yaml.Node, string) error{
						"approve": w.count(&t.Approve), "deny": w.count(&t.Deny),
					}); err != nil {
						return err
					}
					rq.Thresholds = append(rq.Thresholds, t)
				}
				return nil
			},
		})
	}
}

// reviewRequests reads allow.review_requests: roles.
func (w walker) reviewRequests(dst **schemas.ReviewConditions) func(*yaml.Node, string) error {
	return func(n *yaml.Node, path string) error {
		rv := &schemas.ReviewConditions{}
		*dst = rv
		return w.fields(n, path, map[string]func(*yaml.Node, string) error{"roles": w.strs(&rv.Roles)})
	}
}

// statementRules reads allow.db_statements or deny.db_statements: a list
// of rules (what each field means: package policy; control checks them).
func (w walker) statementRules(dst *[]schemas.StatementRule) func(*yaml.Node, string) error {
	return func(n *yaml.Node, path string) error {
		if n.Kind != yaml.SequenceNode {
			return w.fail(n, path, "expected a list of statement rules like [{name: no-deletes, statements: [delete]}]")
		}
		for i, c := range n.Content {
			var r schemas.StatementRule
			p := fmt.Sprintf("%s[%d]", path, i)
			if err := w.fields(c, p, map[string]func(*yaml.Node, string) error{
				"name": w.str(&r.Name), "statements": w.strs(&r.Statements), "tables": w.strs(&r.Tables),
				"functions": w.strs(&r.Functions), "without_where": w.boolean(&r.WithoutWhere),
				"action": w.str(&r.Action), "request_roles": w.strs(&r.RequestRoles),
			}); err != nil {
				return err
			}
			if r.Name == "" {
				return w.fail(c, p+".name", "is required (it names the rule in errors and events)")
			}
			*dst = append(*dst, r)
		}
		return nil
	}
}

// statementOptions reads options.db_statements: mode, unparseable.
func (w walker) statementOptions(dst **schemas.StatementOptions) func(*yaml.Node, string) error {
	return func(n *yaml.Node, path string) error {
		o := &schemas.StatementOptions{}
		*dst = o
		return w.fields(n, path, map[string]func(*yaml.Node, string) error{
			"mode": func(n *yaml.Node, path string) error {
				if err := w.str(&o.Mode)(n, path); err != nil {
					return err
				}
				if o.Mode != schemas.ModeEnforce && o.Mode != schemas.ModeDryRun {
					return w.fail(n, path, "%q: use enforce or dry_run (matches recorded as query.would_deny, nothing blocked)", o.Mode)
				}
				return nil
			},
			"unparseable": func(n *yaml.Node, path string) error {
				if err := w.str(&o.Unparseable)(n, path); err != nil {
					return err
				}
				if o.Unparseable != schemas.UnparseableDeny && o.Unparseable != schemas.UnparseableAllow {
					return w.fail(n, path, "%q: use deny or allow (a text the SQL parser cannot read runs, flagged)", o.Unparseable)
				}
				return nil
			},
		})
	}
}

// boolean reads true or false.
func (w walker) boolean(dst *bool) func(*yaml.Node, string) error {
	return func(n *yaml.Node, path string) error {
		if n.Kind != yaml.ScalarNode || (n.Value != "true" && n.Value != "false") {
			return w.fail(n, path, "expected true or false")
		}
		*dst = n.Value == "true"
		return nil
	}
}

// count reads a positive integer.
func (w walker) count(dst *int) func(*yaml.Node, string) error {
	return func(n *yaml.Node, path string) error {
		v, err := strconv.Atoi(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil || v < 1 {
			return w.fail(n, path, "expected a count of reviews, at least 1")
		}
		*dst = v
		return nil
	}
}

// parseRole reads a Teleport-shaped role file.
func parseRole(file string, raw []byte) (schemas.Role, error) {
	w := walker{file: file}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return schemas.Role{}, fmt.Errorf("%s: empty file; expected kind: role", file)
		}
		return schemas.Role{}, fmt.Errorf("%s: %w", file, err)
	}
	root := doc.Content[0]
	var (
		r                   schemas.Role
		kind, version       string
		metaSeen, specSeen  bool
		ttl                 string
		replication, hasRep bool
	)
	err := w.fields(root, "", map[string]func(*yaml.Node, string) error{
		"kind":    w.str(&kind),
		"version": w.str(&version),
		"metadata": func(n *yaml.Node, path string) error {
			metaSeen = true
			var desc string
			var labels map[string][]string
			return w.fields(n, path, map[string]func(*yaml.Node, string) error{
				"name": w.str(&r.Name), "description": w.str(&desc), "labels": w.labels(&labels),
			})
		},
		"spec": func(n *yaml.Node, path string) error {
			specSeen = true
			return w.fields(n, path, map[string]func(*yaml.Node, string) error{
				"allow": w.conditions(&r.Spec.Allow),
				"deny":  w.conditions(&r.Spec.Deny),
				"options": func(n *yaml.Node, path string) error {
					return w.fields(n, path, map[string]func(*yaml.Node, string) error{
						"max_session_ttl": func(n *yaml.Node, path string) error {
							if err := w.str(&ttl)(n, path); err != nil {
								return err
							}
							if d, err := time.ParseDuration(ttl); err != nil || d <= 0 {
								return w.fail(n, path, "%q is not a positive duration like 8h", ttl)
							}
							return nil
						},
						"require_mfa": func(n *yaml.Node, path string) error {
							if err := w.str(&r.Spec.Options.RequireMFA)(n, path); err != nil {
								return err
							}
							if m := r.Spec.Options.RequireMFA; m != schemas.RequireMFALogin && m != schemas.RequireMFASession {
								return w.fail(n, path, "%q: use login (a second factor at toll login) or session (also one per database session)", m)
							}
							return nil
						},
						"db_statements": w.statementOptions(&r.Spec.Options.DBStatements),
						"db_replication": func(n *yaml.Node, path string) error {
							hasRep = true
							if n.Kind != yaml.ScalarNode || (n.Value != "true" && n.Value != "false") {
								return w.fail(n, path, "expected true or false")
							}
							replication = n.Value == "true"
							return nil
						},
					})
				},
			})
		},
	})
	if err != nil {
		return schemas.Role{}, err
	}
	if kind != "role" {
		return schemas.Role{}, w.fail(root, "kind", "must be role, got %q", kind)
	}
	if !metaSeen || r.Name == "" {
		return schemas.Role{}, w.fail(root, "metadata.name", "is required")
	}
	if !specSeen {
		return schemas.Role{}, w.fail(root, "spec", "is required")
	}
	r.Spec.Options.MaxSessionTTL = ttl
	if hasRep {
		r.Spec.Options.DBReplication = replication
	}
	return r, nil
}

// roleDoc is the Teleport-shaped form of a role, for output.
func roleDoc(r schemas.Role) map[string]any {
	return map[string]any{
		"kind": "role", "version": "v1",
		"metadata": map[string]any{"name": r.Name},
		"spec":     r.Spec,
	}
}
