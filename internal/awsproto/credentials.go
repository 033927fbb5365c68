package awsproto

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// LoadCredentialsFile adds the keys of an AWS shared-credentials style file
// (~/.aws/credentials) to c.Keys. Each section with aws_access_key_id and
// aws_secret_access_key becomes a key; account_id (or aws_account_id) and
// aws_session_token are optional.
func (c *SigV4Config) LoadCredentialsFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	keys, err := ParseCredentials(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if c.Keys == nil {
		c.Keys = make(map[string]Credential, len(keys))
	}
	for k, v := range keys {
		c.Keys[k] = v
	}
	return nil
}

// ParseCredentials reads an AWS shared-credentials style INI document and
// returns its keys by access key ID. Sections without both an access key ID
// and a secret are skipped; a later section wins over an earlier one with
// the same access key ID.
func ParseCredentials(r io.Reader) (map[string]Credential, error) {
	type section struct{ id, secret, account, token string }
	var sections []*section
	var cur *section
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			continue
		case line[0] == '[':
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("line %d: malformed section header %q", n, line)
			}
			cur = &section{}
			sections = append(sections, cur)
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: expected key = value, got %q", n, line)
		}
		if cur == nil {
			return nil, fmt.Errorf("line %d: %q outside of a [section]", n, line)
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "aws_access_key_id":
			cur.id = v
		case "aws_secret_access_key":
			cur.secret = v
		case "account_id", "aws_account_id":
			cur.account = v
		case "aws_session_token":
			cur.token = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	keys := map[string]Credential{}
	for _, s := range sections {
		if s.id != "" && s.secret != "" {
			keys[s.id] = Credential{SecretKey: s.secret, Account: s.account, SessionToken: s.token}
		}
	}
	return keys, nil
}
