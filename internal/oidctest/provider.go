package oidctest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// The provider's clients.
const (
	// NativeClient is a public client: no secret, PKCE, any loopback port
	// (redirect http://127.0.0.1/callback registered without one).
	NativeClient = "tollgate-native"
	// WebClient is a confidential client with WebSecret, redirected to
	// http://127.0.0.1:*/callback (toll) or
	// https://127.0.0.1:*/web/sso/callback (the web console).
	WebClient = "tollgate-web"
	WebSecret = "web-client-secret-not-for-events"
)

// User is a person the provider knows.
type User struct {
	ID, Username, Password, Email string
	// Groups is the user's groups claim (scope "groups").
	Groups []string
}

// Provider is a running provider.
type Provider struct {
	// Issuer is its issuer URL (http://127.0.0.1:PORT).
	Issuer string
	srv    *httptest.Server
	st     *groupsStorage
}

// SetGroups changes user id's groups claim from its next login on.
func (p *Provider) SetGroups(id string, groups ...string) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	u := p.st.users[id]
	u.Groups = groups
	p.st.users[id] = u
}

// Start starts a provider with users on a free loopback port; Close
// stops it.
func Start(users ...User) *Provider {
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	us := userStore{}
	for _, u := range users {
		us[u.ID] = u
	}
	web := storage.WebClient(WebClient, WebSecret, "http://127.0.0.1/callback")
	clients := map[string]*storage.Client{
		NativeClient: storage.NativeClient(NativeClient, "http://127.0.0.1/callback"),
		WebClient:    web,
	}
	st := &groupsStorage{Storage: storage.NewStorageWithClients(us, clients), users: us, web: web}
	srv.Config.Handler = exampleop.SetupServer(issuer, st, nil, false)
	srv.Start()
	return &Provider{Issuer: issuer, srv: srv, st: st}
}

// Close stops the provider.
func (p *Provider) Close() { p.srv.Close() }

// userStore is storage.UserStore over the test's users.
type userStore map[string]User

func (u userStore) conv(x User) *storage.User {
	return &storage.User{ID: x.ID, Username: x.Username, Password: x.Password, Email: x.Email, EmailVerified: true,
		FirstName: x.Username, LastName: "Test", PreferredLanguage: language.English}
}

func (u userStore) GetUserByID(id string) *storage.User {
	x, ok := u[id]
	if !ok {
		return nil
	}
	return u.conv(x)
}

func (u userStore) GetUserByUsername(name string) *storage.User {
	for _, x := range u {
		if x.Username == name {
			return u.conv(x)
		}
	}
	return nil
}

func (u userStore) ExampleClientID() string { return storage.ServiceUserID }

// groupsStorage adds the groups claim to the example storage's userinfo
// and ID tokens, and gives the web client its loopback redirect glob.
type groupsStorage struct {
	*storage.Storage
	mu    sync.Mutex
	users userStore
	web   *storage.Client
}

type globClient struct{ *storage.Client }

func (globClient) RedirectURIGlobs() []string {
	return []string{"http://127.0.0.1:*/callback", "https://127.0.0.1:*/web/sso/callback"}
}
func (globClient) PostLogoutRedirectURIGlobs() []string { return nil }

var _ op.HasRedirectGlobs = globClient{}

func (s *groupsStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	if id == WebClient {
		return globClient{s.web}, nil
	}
	return s.Storage.GetClientByClientID(ctx, id)
}

func (s *groupsStorage) groups(info *oidc.UserInfo, subject string, scopes []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sc := range scopes {
		if sc == "groups" {
			info.AppendClaims("groups", s.users[subject].Groups)
		}
	}
}

func (s *groupsStorage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, token op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, info, token, scopes); err != nil {
		return err
	}
	s.groups(info, token.GetSubject(), scopes)
	return nil
}

func (s *groupsStorage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, info, tokenID, subject, origin); err != nil {
		return err
	}
	// The example's token keeps its scopes; every test login asks groups.
	s.groups(info, subject, []string{"groups"})
	return nil
}

var formID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// Login is a browser at authURL: it follows the provider to its login
// form, submits username and password, and follows the redirects back to
// the client's redirect URI (a loopback listener). It returns the last
// response's status and body.
func Login(ctx context.Context, authURL, username, password string) (int, string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get := func(u string) (*http.Response, string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, "", err
		}
		resp, err := c.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, string(b), err
	}
	resp, page, err := get(authURL)
	if err != nil {
		return 0, "", fmt.Errorf("open the login page: %w", err)
	}
	m := formID.FindStringSubmatch(page)
	if m == nil {
		return resp.StatusCode, page, fmt.Errorf("no login form at %s", resp.Request.URL)
	}
	form := url.Values{"id": {m[1]}, "username": {username}, "password": {password}}
	loginURL := resp.Request.URL.ResolveReference(&url.URL{Path: "/login/username"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, loginURL.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = c.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("submit the login form: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}
