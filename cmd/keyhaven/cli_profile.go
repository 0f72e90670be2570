package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// profileKeys are the keys of a profile section, in the order written.
var profileKeys = []string{"endpoint", "region", "secret_id", "secret_key", "output"}

// section is one [NAME] of the profile file.
type section struct {
	name   string
	values map[string]string
}

// configPath is ~/.keyhaven/config.
func configPath() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("profile file: %w", err)
	}
	return filepath.Join(home, ".keyhaven", "config"), nil
}

// parseProfiles reads an INI file: [NAME] sections of key = value lines;
// blank lines and lines starting with # or ; are ignored.
func parseProfiles(b []byte, path string) ([]section, error) {
	var out []section
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && line[len(line)-1] == ']':
			out = append(out, section{name: strings.TrimSpace(line[1 : len(line)-1]), values: map[string]string{}})
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || len(out) == 0 {
				return nil, fmt.Errorf("%s:%d: want [NAME] or key = value", path, i+1)
			}
			out[len(out)-1].values[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out, nil
}

func readProfiles() (string, []section, error) {
	path, err := configPath()
	if err != nil {
		return "", nil, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	secs, err := parseProfiles(b, path)
	return path, secs, err
}

// loadProfile returns the values of profile name; a missing file or
// section is no values, or an error if the profile was asked for by name.
func loadProfile(name string, explicit bool) (map[string]string, error) {
	path, secs, err := readProfiles()
	if err != nil {
		return nil, err
	}
	for _, s := range secs {
		if s.name == name {
			return s.values, nil
		}
	}
	if explicit {
		return nil, fmt.Errorf("profile %q is not in %s; create it with `keyhaven configure --profile %s`", name, path, name)
	}
	return map[string]string{}, nil
}

// writeProfiles writes the profile file with mode 0600 (its directory 0700).
func writeProfiles(path string, secs []section) error {
	var buf bytes.Buffer
	for i, s := range secs {
		if i > 0 {
			buf.WriteByte('\n')
		}
		fmt.Fprintf(&buf, "[%s]\n", s.name)
		for _, k := range profileKeys {
			if v := s.values[k]; v != "" {
				fmt.Fprintf(&buf, "%s = %s\n", k, v)
			}
		}
		for k, v := range s.values {
			if !slices.Contains(profileKeys, k) && v != "" {
				fmt.Fprintf(&buf, "%s = %s\n", k, v)
			}
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o600); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil { // WriteFile keeps an old file's mode
		return err
	}
	return os.Rename(tmp, path)
}

func newConfigureCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "configure",
		Short: "Write the endpoint and access key to a profile of ~/.keyhaven/config",
		Long: `Write the endpoint and access key to a profile of ~/.keyhaven/config (an INI
file, mode 0600: sections [default] and [NAME] with endpoint, secret_id,
secret_key, and optionally region and output). Values given by the global
flags are taken as they are; the others are asked for on standard input
(an empty answer keeps the current value).

Client commands take their settings from flags, then the environment
(` + envEndpoint + `, ` + envSecretID + `, ` + envSecretKey + `, ` + envProfile + `), then the profile.`,
		Example: `  keyhaven configure
  keyhaven configure --profile prod --endpoint https://kms.example.com:8400 --secret-id AKID... --secret-key ...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, secs, err := readProfiles()
			if err != nil {
				return err
			}
			name := first(g.profile, os.Getenv(envProfile), "default")
			idx := -1
			for i, s := range secs {
				if s.name == name {
					idx = i
				}
			}
			if idx < 0 {
				secs = append(secs, section{name: name, values: map[string]string{}})
				idx = len(secs) - 1
			}
			vals := secs[idx].values
			in := bufio.NewReader(cmd.InOrStdin())
			prompts := []struct{ key, label, flag string }{
				{"endpoint", "Endpoint", g.endpoint},
				{"secret_id", "SecretId", g.secretID},
				{"secret_key", "SecretKey", g.secretKey},
				{"output", "Output format (table or json)", g.output},
			}
			for _, p := range prompts {
				if p.flag != "" {
					vals[p.key] = p.flag
					continue
				}
				cur := vals[p.key]
				if p.key == "endpoint" && cur == "" {
					cur = defaultEndpoint
				}
				shown := cur
				if p.key == "secret_key" && cur != "" {
					shown = "****" + cur[max(0, len(cur)-4):]
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "%s [%s]: ", p.label, shown)
				line, err := in.ReadString('\n')
				if err != nil && err != io.EOF {
					return err
				}
				if line = strings.TrimSpace(line); line != "" {
					cur = line
				}
				vals[p.key] = cur
			}
			if o := vals["output"]; o != "" && o != "table" && o != "json" {
				return fmt.Errorf("output is table or json, not %q", o)
			}
			if err := writeProfiles(path, secs); err != nil {
				return fmt.Errorf("write %s: %w", path, err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote profile %q to %s\n", name, path)
			return nil
		},
	}
}
