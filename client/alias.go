package client

import (
	"context"
	"fmt"
	"strings"
)

// AliasPrefix marks a key reference as an alias: "alias/NAME".
const AliasPrefix = "alias/"

// ResolveKeyID turns a key reference into a key id: "alias/NAME" and a bare
// alias are looked up with ListKeyDetail (every usage; user keys, then
// service keys), an exact alias match; a key id (a UUID) is returned as is.
// It returns an error wrapping ErrAliasNotFound if no key has the alias.
func (c *Client) ResolveKeyID(ctx context.Context, ref string) (string, error) {
	name, isAlias := strings.CutPrefix(ref, AliasPrefix)
	if !isAlias && (IsKeyID(ref) || ref == "") {
		return ref, nil
	}
	for role := uint64(0); role <= 1; role++ {
		for offset := uint64(0); ; {
			resp, err := c.ListKeyDetail(ctx, ListKeyDetailRequest{
				SearchKeyAlias: name, KeyUsage: UsageAll, Role: role, Offset: offset, Limit: 200,
			})
			if err != nil {
				return "", fmt.Errorf("client: resolve alias %q: %w", name, err)
			}
			for _, k := range resp.KeyMetadatas {
				if k.Alias == name {
					return k.KeyID, nil
				}
			}
			offset += uint64(len(resp.KeyMetadatas))
			if len(resp.KeyMetadatas) == 0 || offset >= resp.TotalCount {
				break
			}
		}
	}
	return "", fmt.Errorf("client: alias %q: %w", name, ErrAliasNotFound)
}

// IsKeyID reports whether s has the form of a key id: a UUID in its
// canonical 8-4-4-4-12 hexadecimal form.
func IsKeyID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}
